// What a report format is: a writer that emits text as artifacts finish, in order: begin, one
// piece per artifact, end. Every format's file implements it; formats.ts picks one.
import type { ArtifactResult } from '../judge/artifact.js';
import type { Tally } from './json.js';

export interface ReportWriter {
  begin(): string;
  /** `index`: the artifact's position in the run's inputs (0-based). */
  artifact(r: ArtifactResult, index: number): string;
  end(t: Tally): string;
  /** Written as each artifact finishes rather than in input order (ndjson). */
  inFinishOrder?: boolean;
}
