// `pyc-audit channel SOURCE`: the artifacts a conda channel lists (its subdirs, names and the
// Python asked for), this machine's shard of them, and the result cache; then one run over them.
// cli.ts loads this module only for `channel`.
import { parseShard, shardOf } from '../channel/shard.js';
import { artifactLocation, ChannelError, describeChannel, isSubdirName, loadChannel, TooManyRecords } from '../channel/source.js';
import { EXIT, UsageError } from '../run/exit.js';
import { readRegularFile } from '../sources/access/regular-file.js';
import { JSON_SCHEMA_VERSION } from '../report/json.js';
import type { ReportIo } from '../report/reporter.js';
import { printable } from '../report/text.js';
import { ResultCache } from '../run/result-cache.js';
import type { RunFlags } from '../run/flags.js';
import { loadTable, readUpdate } from '../run/load-table.js';
import { MEMORY_MB } from '../run/read-plan.js';
import { resolveInterpreter } from '../run/resolve-interpreter.js';
import { runTargets } from '../run/run-targets.js';
import type { Target } from '../sources/folders/targets.js';
import { VERSION } from '../version.js';
import { redactUrls } from '../sources/access/redact.js';

export interface ChannelFlags extends RunFlags {
  subdir: string[];
  name: string[];
  shard?: string;
  cache?: string;
  learnPython: boolean;
  builtAfter?: number;
  builtBefore?: number;
}

/** A URL shown without its password or token (redact.ts), and kept whole to be requested. */
const shown = (loc: { path: string; kind: 'url' | 'file' }) => (loc.kind === 'url' ? { ...loc, path: redactUrls(loc.path), url: loc.path } : loc);

/**
 * The artifacts one run audits at most: each costs up to 2.5 KB of peak memory (its record, its
 * target, its place in the order, its result until reported: 845 MB for 333,000 artifacts that all
 * failed), so 2,000 per MB of the budget (PYC_AUDIT_MEMORY_MB), 200,000 by default, keeps a run
 * within a few times its budget and far from the heap's limit. More is refused before anything is
 * downloaded, naming the --shard to use.
 */
export const MAX_RUN_ARTIFACTS = MEMORY_MB * 2000;

export async function runChannel(source: string, flags: ChannelFlags, io: ReportIo): Promise<number> {
  for (const subdir of flags.subdir) if (!isSubdirName(subdir)) throw new UsageError(`--subdir ${subdir}: not a subdir name`);
  if (flags.builtAfter !== undefined && flags.builtBefore !== undefined && flags.builtAfter >= flags.builtBefore) {
    throw new UsageError(`--built-after ${new Date(flags.builtAfter).toISOString()} is not before --built-before ${new Date(flags.builtBefore).toISOString()}`);
  }
  await resolveInterpreter(flags);
  let shard;
  try {
    shard = flags.shard ? parseShard(flags.shard) : { index: 1, count: 1 };
  } catch (err) {
    throw new UsageError(`--shard ${(err as Error).message}`);
  }
  // A remote channel's documents and redirects lead only where hosts.ts allows.
  if (/^https?:\/\//i.test(source)) {
    const { channelPolicy } = await import('../sources/access/hosts.js');
    const { setHostPolicy } = await import('../sources/access/net.js');
    try {
      setHostPolicy(channelPolicy(source, flags.allowHost ?? []));
    } catch {
      throw new UsageError(`${source}: not a URL`);
    }
  }
  let channel;
  try {
    channel = await loadChannel(source, flags.subdir, {
      timeoutSeconds: flags.timeout, deadlineSeconds: flags.deadline, selection: { names: flags.name, python: flags.python ?? null, learnPython: flags.learnPython && !flags.target, builtAfter: flags.builtAfter ?? null, builtBefore: flags.builtBefore ?? null },
      cacheDir: flags.cache ?? null,
      // Only this shard's records are held for the audit; the channel's selection is spilled past a sixteenth of the budget.
      keep: (r) => shardOf(r.subdir, r.file, shard.count) === shard.index,
      maxKept: MAX_RUN_ARTIFACTS,
      memoryBytes: (MEMORY_MB << 20) >> 4,
    });
  } catch (err) {
    if (err instanceof TooManyRecords) {
      // Shards are balanced by a hash, not exactly: a tenth to spare.
      const n = Math.ceil(err.selected / (err.limit * 0.9));
      throw new UsageError(
        `${printable(redactUrls(source))}: ${err.selected} artifacts selected${shard.count > 1 ? ` (shard ${shard.index}/${shard.count} holds more than ${err.limit})` : ''}, more than one run audits within its memory budget (${err.limit} at PYC_AUDIT_MEMORY_MB=${MEMORY_MB}): split the run with --shard K/${Math.max(n, shard.count * 2)} (K from 1 to ${Math.max(n, shard.count * 2)}, one run each), or narrow it with --name, --python or --built-after/--built-before`,
      );
    }
    if (err instanceof ChannelError) throw new UsageError(err.message);
    throw err;
  }
  for (const w of channel.warnings) io.stderr.write(`pyc-audit: warning: ${printable(w)}\n`);
  const selected = channel.counts.selected;
  // A selection that leaves nothing (a --name or --python typo) must not pass as a clean audit.
  if (!selected) {
    const by = [flags.name.length ? `--name ${flags.name.join(',')}` : '', flags.python ? `--python ${flags.python}` : ''].filter(Boolean);
    throw new UsageError(`nothing to audit: ${printable(channel.source)}: ${printable(describeChannel(channel))}${by.length ? ` (check ${by.join(' and ')})` : ''}`);
  }
  const mine = channel.records;
  io.stderr.write(`pyc-audit: ${printable(channel.source)}: ${printable(describeChannel(channel))}${shard.count > 1 ? `; shard ${shard.index}/${shard.count} has ${mine.length}` : ''}\n`);
  // One channel name and one shard description for all (a run may hold hundreds of thousands).
  const channelName = redactUrls(channel.source);
  const shardOrigin = { ...shard, size: mine.length, total: selected };
  const targets: Target[] = mine.map((r) => ({
    ...shown(artifactLocation(channel, r)),
    size: r.size ?? undefined,
    origin: { channel: channelName, subdir: r.subdir, file: r.file, sha256: r.sha256, timestamp: r.timestamp ?? null, shard: shardOrigin },
  }));
  channel.records = []; // the targets say it all now
  if (channel.python) {
    const { learnFromChannel } = await import('../channel/learn.js');
    const read = { maxBytes: flags.maxBytes ?? null, timeoutSeconds: flags.timeout, deadlineSeconds: flags.deadline };
    const say = (line: string) => io.stderr.write(`${printable(line)}\n`);
    flags.learned = await learnFromChannel(channel, { table: await loadTable(flags.magicTable), read, cacheDir: flags.cache ?? null, version: VERSION, audited: new Set(targets.map((t) => t.path)), jobs: flags.jobs, say });
  }
  const magicTable = flags.magicTable ? await readRegularFile(flags.magicTable, { maxBytes: 16 << 20 }).then((b) => b.toString('utf8'), () => flags.magicTable) : null;
  // What `magic --update` added judges too: a cached result is of the table it was judged with.
  const update = await readUpdate().catch((err: Error) => {
    throw new UsageError(err.message);
  });
  const cache = flags.cache
    ? new ResultCache(
        flags.cache,
        {
          version: VERSION,
          // What a cached result holds changes with the report's schema (codes, severities, causes).
          schema: JSON_SCHEMA_VERSION,
          python: flags.python ?? null,
          magicTable,
          ...(update ? { magicUpdate: update.releases.map((r) => `${r.tag}=${r.magic}`) } : {}),
          select: flags.select ?? null,
          ignore: flags.ignore ?? null,
          maxBytes: flags.maxBytes ?? null,
          ...(flags.target ? { target: { magic: flags.target.magic, implementation: flags.target.implementation, version: flags.target.version } } : {}),
          ...(flags.learned?.key.length ? { learned: flags.learned.key } : {}),
        },
        flags.timeout,
        (message) => io.stderr.write(`pyc-audit: warning: ${printable(message)}\n`),
      )
    : null;
  const code = await runTargets(targets, flags, io, cache);
  if (cache) io.stderr.write(`pyc-audit: --cache: ${cache.hits} of ${targets.length} artifacts were already audited\n`);
  return flags.learned?.failed ? EXIT.error : code;
}
