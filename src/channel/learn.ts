// What each Python minor's final release writes, learned from the channel's own `python` builds
// before any artifact is judged: for each minor whose packages the run audits, the newest final
// build of that minor in the channel (python-builds.ts) is read, and the magic its standard
// library's bytecode carries (magic/stdlib.ts) becomes that minor's only final magic for the run
// — as a python package among the inputs of `audit` does. One build per minor, read as any
// artifact is (a .conda over HTTP by range requests: its tail, then its info and pkg tarballs),
// within --max-bytes, --timeout and --deadline. With --cache the build is copied and checked
// against repodata's SHA-256 like an audited artifact, and what it said is kept: a re-run of an
// unchanged channel does not read it again. A build that cannot be read is one error line; its
// minor is then judged with the table.
import pLimit from 'p-limit';
import type { Reader } from '../run/audit-artifact.js';
import { stdlibMagic, stdlibTarget, type StdlibMagic } from '../magic/stdlib.js';
import type { MagicTable, TargetMagic } from '../magic/table.js';
import { CopyError, FactCache } from '../run/result-cache.js';
import { readTarget, type ReadOptions } from '../sources/index.js';
import type { ArtifactEntries } from '../sources/types.js';
import type { PythonBuild } from './python-builds.js';
import { artifactLocation, type Channel } from './source.js';

export interface ChannelLearning {
  /** The learned magics as table rows, one per minor (each its minor's only final magic). */
  targets: TargetMagic[];
  /** What joins the result cache's key: a result judged with other magics must not be reused. */
  key: { version: string; implementation: string; magic: number }[];
  /** A build that could not be read (said on stderr): the run's exit status says so. */
  failed: boolean;
  /** The reader for the audit: a python build read here and audited too is served from memory, once. */
  reader: (read: Reader) => Reader;
}

export interface LearnOptions {
  /** The table the run judges with (built in, and --magic-table): what a learned magic is compared with. */
  table: MagicTable;
  read: Pick<ReadOptions, 'maxBytes' | 'timeoutSeconds' | 'deadlineSeconds'>;
  /** --cache DIR, and the pyc-audit version (what was learned is kept per version). */
  cacheDir: string | null;
  version: string;
  /** Paths of the artifacts this run audits (a python build among them is read once). */
  audited: ReadonlySet<string>;
  /** Builds read at once. */
  jobs: number;
  /** A line for stderr (without its newline). */
  say: (line: string) => void;
}

type Outcome = { build: PythonBuild; where: string; learned: StdlibMagic; kept: boolean } | null;

/** A kept value, checked: what stdlibMagic returns (null: the build has no standard-library bytecode). */
function revive(value: unknown): StdlibMagic | null | undefined {
  if (value === null) return null;
  const v = value as Partial<StdlibMagic> | undefined;
  if (!v || typeof v !== 'object') return undefined;
  const ok =
    Number.isInteger(v.magic) && v.magic! >= 0 && v.magic! <= 0xffff &&
    (v.implementation === 'CPython' || v.implementation === 'PyPy') &&
    typeof v.version === 'string' && /^\d+\.\d+$/.test(v.version) &&
    Number.isInteger(v.count) && v.count! > 0 &&
    typeof v.example === 'string';
  return ok ? { magic: v.magic!, implementation: v.implementation!, version: v.version!, count: v.count!, example: v.example! } : undefined;
}

/** How a learned magic compares with the table's finals for its minor, for the stderr line. */
function comparedWithTable(table: MagicTable, learned: StdlibMagic): string {
  const finals = table.finalMagics(learned.version, learned.implementation).map((e) => e.magic);
  if (!finals.length) return `the table has no ${learned.version} final`;
  if (finals.length === 1 && finals[0] === learned.magic) return 'as the table has it';
  return `expected instead of the table's ${finals.join(' or ')}`;
}

/**
 * Learns the final magic of every Python minor the channel's selected records are for, from the
 * channel's own python builds. Every shard of a run selects the same records, so every shard
 * learns the same magics and judges alike.
 */
export async function learnFromChannel(channel: Channel, options: LearnOptions): Promise<ChannelLearning> {
  const kept = new Map<string, ArtifactEntries>();
  const learning: ChannelLearning = { targets: [], key: [], failed: false, reader: (read) => read };
  if (!channel.python || !channel.python.minors.size) return learning;
  const { builds, missing } = channel.python.builds.choose(channel.python.minors);
  if (missing.length) {
    const pre = missing.filter((m) => m.prerelease).map((m) => `${m.minor}: only ${m.prerelease}`);
    options.say(`pyc-audit: the channel has no final python build of ${missing.map((m) => m.minor).join(', ')}${pre.length ? ` (${pre.join('; ')})` : ''}: judged with the magic table`);
  }
  const facts = options.cacheDir ? new FactCache(options.cacheDir, `stdlib-magic ${options.version}`, options.read.timeoutSeconds) : null;
  const limit = pLimit(Math.max(1, options.jobs));
  let outcomes: Outcome[];
  try {
    outcomes = await Promise.all(
      builds.map((build) =>
        limit(async (): Promise<Outcome> => {
          const location = artifactLocation(channel, build);
          const fail = (reason: string): null => {
            learning.failed = true;
            options.say(`pyc-audit: error: ${location.path}: cannot learn ${build.minor}'s final magic from it: ${reason}; ${build.minor} judged with the magic table`);
            return null;
          };
          let learned: StdlibMagic | null;
          let fromCache = false;
          try {
            if (facts) {
              const got = await facts.learn(location.path, build.file, build.sha256, build.size ?? undefined, async (copy) => stdlibMagic((await readTarget({ path: copy, kind: 'file' }, options.read)).pyc), revive);
              learned = got.value;
              fromCache = got.kept;
            } else {
              const entries = await readTarget(location, options.read);
              if (options.audited.has(location.path)) kept.set(location.path, entries);
              learned = stdlibMagic(entries.pyc);
            }
          } catch (err) {
            return fail(err instanceof CopyError && err.refused ? `${err.message}: not read` : (err as Error).message);
          }
          const what = `${build.file} (${build.subdir})`;
          if (!learned) {
            options.say(`pyc-audit: warning: ${what} has no standard-library bytecode (lib/python${build.minor}/__pycache__/*.pyc): ${build.minor} judged with the magic table`);
            return null;
          }
          if (learned.implementation !== 'CPython' || learned.version !== build.minor) {
            options.say(`pyc-audit: warning: ${what}: its standard library's bytecode is ${learned.implementation === 'CPython' ? '' : `${learned.implementation} `}${learned.version}'s, not ${build.minor}'s: ${build.minor} judged with the magic table`);
            return null;
          }
          return { build, where: what, learned, kept: fromCache };
        }),
      ),
    );
  } finally {
    await facts?.close();
  }
  for (const o of outcomes) {
    if (!o) continue;
    const { learned, build } = o;
    options.say(`pyc-audit: learned ${learned.version} final magic ${learned.magic} from ${o.where}${o.kept ? ', kept in --cache' : ''}: ${comparedWithTable(options.table, learned)}`);
    learning.targets.push(stdlibTarget(learned, `${build.file}, the channel's python ${build.version}`));
    learning.key.push({ version: learned.version, implementation: learned.implementation, magic: learned.magic });
  }
  if (kept.size) {
    learning.reader = (read) => (target, extra) => {
      const entries = extra ? undefined : kept.get(target.path);
      if (!entries) return read(target, extra);
      kept.delete(target.path);
      return Promise.resolve(entries);
    };
  }
  return learning;
}
