// The options of a run that audits (`audit` and `channel`), as commander and the configuration
// file give them.
import type { ChannelLearning } from '../channel/learn.js';
import type { FindingRules } from './config.js';
import type { TargetMagic } from '../magic/table.js';
import type { Format } from '../report/formats.js';
import type { Severity } from '../judge/rules.js';

export interface RunFlags {
  python?: string;
  format: Format;
  magicTable?: string;
  jobs: number;
  /** URLs: downloads in flight at once (default DOWNLOADS, read-plan.ts). */
  downloads?: number;
  /** Hosts a remote channel may reach although loopback, link-local or private (channel/hosts.ts). */
  allowHost?: string[];
  maxFindings: number;
  maxBytes?: number;
  timeout: number;
  deadline: number;
  quiet?: boolean;
  /** Text: every artifact and how it was read. */
  verbose?: boolean;
  output?: string[];
  listStale?: boolean;
  pkgsCache?: boolean;
  hashExtracted?: boolean;
  color?: boolean;
  select?: string[];
  ignore?: string[];
  failOn: Severity | 'never';
  resume?: boolean;
  /** From the configuration file (config.ts): per-package ignores and severity overrides. */
  findingRules?: FindingRules;
  baseline?: string;
  updateBaseline?: boolean;
  interpreter?: string;
  /** What --interpreter said, once asked. */
  target?: TargetMagic;
  /** `channel`: what the channel's own python builds said of each minor's final magic. */
  learned?: ChannelLearning;
}
