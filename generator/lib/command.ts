// What a command prints and its exit status, gathered rather than printed: the command then runs
// in process (the tests) exactly as its cli.ts runs it, which prints the result and exits with it.

/** What a run of a command prints, and its exit status. */
export interface CommandRun {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** A command's output, line by line as console.log and console.error would print it. */
export class Output {
  #stdout = "";
  #stderr = "";
  readonly log = (line: string): void => {
    this.#stdout += `${line}\n`;
  };
  readonly error = (line: string): void => {
    this.#stderr += `${line}\n`;
  };
  result(status: number): CommandRun {
    return { status, stdout: this.#stdout, stderr: this.#stderr };
  }
}
