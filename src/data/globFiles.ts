/**
 * The files matching a glob pattern (`photos/**\/*.jpg`, `shots/2024-??/*.{jpg,png}`), sorted,
 * found by walking only below the pattern's fixed leading folders: `*` and `?` match within one
 * path segment, `**` any number of segments, `{a,b}` either alternative. Symbolic links to folders
 * are followed once (a loop is not walked twice); hidden files and folders match only a pattern that names them.
 *
 * ```ts
 * isGlob('photos/*.jpg');          // true
 * globFiles('photos/**\/*.jpg');    // ['photos/a.jpg', 'photos/trip/b.jpg', ...]
 * ```
 */
import { readdirSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';

export function isGlob(spec: string): boolean {
  return /[*?{]/.test(spec);
}

function segmentPattern(segment: string): RegExp {
  let source = '';
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i];
    if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else if (c === '{') {
      const end = segment.indexOf('}', i);
      if (end < 0) throw new Error(`glob segment '${segment}': '{' without '}'`);
      source += `(?:${segment.slice(i + 1, end).split(',').map((a) => a.replace(/[.+^$()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')).join('|')})`;
      i = end;
    } else source += c.replace(/[.+^$()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

/** The pattern's fixed leading folders (where the walk starts), and the segments after them. */
function splitPattern(pattern: string): { base: string; fixed: string[]; segments: string[] } {
  const segments = pattern.split('/');
  const fixed: string[] = [];
  while (segments.length > 1 && !isGlob(segments[0])) fixed.push(segments.shift()!);
  return { base: fixed.length === 0 ? '.' : fixed.join('/') || '/', fixed, segments };
}

/** The folder below which every match of `pattern` lies. */
export function globBase(pattern: string): string {
  return splitPattern(pattern).base;
}

/** Files (not folders) matching `pattern`, sorted by path. */
export function globFiles(pattern: string): string[] {
  const { base, fixed, segments } = splitPattern(pattern);
  const out: string[] = [];
  const seen = new Set<string>();
  const walk = (dir: string, rest: string[]): void => {
    let real: string;
    try { real = realpathSync(dir); } catch { return; }
    const key = `${real}\0${rest.join('/')}`;
    if (seen.has(key)) return;
    seen.add(key);
    let names: string[];
    try { names = readdirSync(dir).sort(); } catch { return; }
    if (rest.length === 0) return;
    const [head, ...tail] = rest;
    if (head === '**') {
      walk(dir, tail.length === 0 ? ['*'] : tail); // zero segments ('a/**' means every file below a)
      for (const name of names) if (!name.startsWith('.') && isFolder(join(dir, name))) walk(join(dir, name), rest); // hidden folders only when named
      return;
    }
    const pattern = segmentPattern(head);
    for (const name of names) {
      if (!pattern.test(name) || name.startsWith('.') && !head.startsWith('.')) continue;
      const path = dir === '.' && fixed.length === 0 ? name : join(dir, name);
      if (tail.length === 0) {
        if (!isFolder(path)) out.push(path);
      } else if (isFolder(path)) walk(path, tail);
    }
  };
  walk(base, segments);
  return out.sort();
}

function isFolder(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false;
}
