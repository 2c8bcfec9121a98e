// A Job that retries forever or runs forever holds up its sync wave forever.
import type { Manifest, Rule } from "../engine.ts";

function jobSpecOf(m: Manifest): { spec: Record<string, unknown>; path: string } | undefined {
  const spec = m.spec as Record<string, any> | undefined;
  if (m.kind === "Job" && spec) return { spec, path: "spec" };
  if (m.kind === "CronJob" && spec?.jobTemplate?.spec) return { spec: spec.jobTemplate.spec, path: "spec.jobTemplate.spec" };
  return undefined;
}

function requireField(field: "backoffLimit" | "activeDeadlineSeconds") {
  return (m: Manifest) => {
    const job = jobSpecOf(m);
    return job && job.spec[field] === undefined ? [{ path: `${job.path}.${field}` }] : [];
  };
}

export const jobRules: Rule[] = [
  {
    id: "jobs/backoff-limit",
    severity: "error",
    description: "Every Job sets backoffLimit, so a failing Job stops retrying.",
    fix: "set spec.backoffLimit (generator/config/common.ts: jobs.backoffLimit)",
    check: requireField("backoffLimit"),
  },
  {
    id: "jobs/active-deadline",
    severity: "error",
    description: "Every Job sets activeDeadlineSeconds, so a stuck Job ends.",
    fix: "set spec.activeDeadlineSeconds (generator/config/common.ts: jobs.activeDeadlineSeconds)",
    check: requireField("activeDeadlineSeconds"),
  },
];
