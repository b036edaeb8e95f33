/**
 * Quoting for POSIX shells. Every value that reaches a remote shell goes through `quote` or the
 * `sh` template tag, which quotes each interpolated value; a raw fragment must be marked with
 * `raw()` on purpose.
 */
const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

export function quote(value: string | number): string {
  const text = String(value);
  if (text === '') return "''";
  if (SAFE.test(text)) return text;
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

export class RawShell {
  constructor(readonly text: string) {}
}

/** A fragment that is already valid shell (an operator, a redirection): not quoted. */
export function raw(text: string): RawShell {
  return new RawShell(text);
}

type ShellValue = string | number | RawShell | readonly (string | number)[];

/** sh`echo ${value} > ${path}`: every interpolation is quoted; arrays become quoted words. */
export function sh(strings: TemplateStringsArray, ...values: ShellValue[]): string {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    if (value instanceof RawShell) out += value.text;
    else if (Array.isArray(value)) out += value.map((v) => quote(v)).join(' ');
    else out += quote(value as string | number);
    out += strings[i + 1] ?? '';
  });
  return out;
}
