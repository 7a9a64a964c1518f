// The identifier of what to rebuild: `name-version-build` of a conda package, `name-version` of a
// wheel. These come from inside an artifact (index.json, conda-meta, the file name) and end up
// in rebuild lists that scripts act on, so they are checked against the grammar conda itself
// enforces before they are printed bare.
//
// The grammar is CEP 26 ("Identifying Packages and Channels in the conda Ecosystem"): a package
// name is lowercase ASCII letters, digits and the separators `.`, `-`, `_`, starts with a letter,
// a digit or a single underscore, has no two separators in a row and at most 128 characters (the
// CEP's regex is case-insensitive); a version is letters, digits, `.`, `_`, `+`, `!`; a build
// string letters, digits, `.`, `_`, `+`. Neither version nor build may contain `-`, which is what
// lets `name-version-build` be split from the right. Wheels follow PEP 427's file name grammar:
// `-` never occurs inside a field.
import { basename } from 'node:path';
import { splitPackageId } from '../judge/package-info.js';

const CONDA_NAME = /^(([a-z0-9])|([a-z0-9_](?!_)))[._-]?([a-z0-9]+(\.|-|_|$))*$/i;
const CONDA_VERSION = /^[a-z0-9._+!]+$/i;
const CONDA_BUILD = /^[a-z0-9._+]+$/i;
const WHEEL_FIELD = /^[a-z0-9._+!]+$/i;

export function isCondaName(s: string): boolean {
  return s.length > 0 && s.length <= 128 && CONDA_NAME.test(s);
}

/** Why `name-version-build` is not one conda would accept, or null when it is fine. */
export function condaIdProblem(name: string, version: string, build: string): string | null {
  if (!isCondaName(name)) return 'not a valid conda package name';
  if (!CONDA_VERSION.test(version)) return 'not a valid conda version';
  if (!CONDA_BUILD.test(build)) return 'not a valid conda build string';
  return null;
}

export interface PackageId {
  /** The identifier as the artifact gives it (may be hostile). */
  id: string;
  /** Why it is not valid, or null. */
  problem: string | null;
}

/** `name-version` of a wheel, from its file name (a path or a URL), or null when the name is not a wheel's. */
export function wheelId(path: string): PackageId | null {
  const file = basename(path.replace(/[?#].*$/, ''));
  const m = /^(.+)\.whl$/i.exec(file);
  if (!m) return null;
  const parts = m[1]!.split('-');
  if (parts.length < 5 || parts.length > 6) return { id: m[1]!, problem: 'not a wheel file name (PEP 427)' };
  const [name, version] = parts as [string, string];
  return { id: `${name}-${version}`, problem: WHEEL_FIELD.test(name) && WHEEL_FIELD.test(version) ? null : 'not a valid wheel name or version' };
}

/** `name-version-build` from its three fields, checked. */
export function condaId(name: string, version: string, build: string): PackageId {
  return { id: `${name}-${version}-${build}`, problem: condaIdProblem(name, version, build) };
}

/** An owner recorded in conda-meta (`name-version-build`), checked. */
export function ownerId(owner: string): PackageId {
  const parts = splitPackageId(owner);
  return parts ? condaId(parts.name, parts.version, parts.build) : { id: owner, problem: 'not a name-version-build' };
}
