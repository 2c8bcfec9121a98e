/** Where a problem is: environment, component, object (`Kind namespace/name`) and field path. */
export interface Location {
  readonly environment: string;
  readonly component: string;
  readonly object: string;
  readonly field: string;
}

/** One invalid value, located well enough that the reader can go and fix it. */
export interface Problem extends Location {
  readonly message: string;
}

export function formatProblem(p: Problem): string {
  return `${p.environment} / ${p.component} / ${p.object} / ${p.field}: ${p.message}`;
}

/** Thrown by a component for config it cannot build from; render() adds environment and component. */
export class InvalidConfig extends Error {
  readonly object: string;
  readonly field: string;
  constructor(object: string, field: string, message: string) {
    super(message);
    this.object = object;
    this.field = field;
  }
}

/** Every problem found in a generation run; nothing is written when this is thrown. */
export class GenerationFailed extends Error {
  readonly problems: readonly Problem[];
  constructor(problems: readonly Problem[]) {
    super(`${problems.length} problem(s), nothing written:\n${problems.map((p) => `  ${formatProblem(p)}`).join("\n")}`);
    this.problems = problems;
  }
}
