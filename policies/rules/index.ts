import type { Rule } from "../engine.ts";
import { apiRules } from "./api.ts";
import { availabilityRules } from "./availability.ts";
import { jobRules } from "./jobs.ts";
import { kindRules } from "./kinds.ts";
import { labelRules } from "./labels.ts";
import { networkRules } from "./network.ts";
import { podSecurityLevels } from "./pod-security.ts";
import { referenceRules } from "./references.ts";
import { secretRules } from "./secrets.ts";
import { storageRules } from "./storage.ts";
import { workloadRules } from "./workload.ts";

/** Every rule, grouped by family (the part of the id before `/`). */
export const rules: readonly Rule[] = [
  ...kindRules,
  // The restricted level as upstream runs it, at the version each pod's Namespace enforces.
  ...podSecurityLevels.restricted,
  ...apiRules,
  ...workloadRules,
  ...availabilityRules,
  ...referenceRules,
  ...jobRules,
  ...networkRules,
  ...secretRules,
  ...storageRules,
  ...labelRules,
];
