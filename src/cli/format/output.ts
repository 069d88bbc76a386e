/**
 * The output formats of `get` (CONTRACT "Client commands"): `-o json` prints ONE JSON
 * object, `{"items": [...]}` for a list and the object itself for a name; `-o yaml` the same
 * document in YAML; `table` and `wide` print aligned columns; `name` one `kind/name` a line.
 */
import { stringify } from 'yaml';
import type { ApiObject, Kind } from '../../api/object.js';
import { displayName } from '../args.js';
import { columnsFor, sortForTable } from './columns.js';
import { renderTable } from './table.js';

/** Output formats the CLI accepts with `-o`. */
export const OUTPUT_FORMATS = ['table', 'wide', 'json', 'yaml', 'name'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** Options that shape a table. */
export interface TableOptions {
  allNamespaces: boolean;
  now: Date;
}

/** Renders a list of objects of one kind in the chosen format. */
export function renderList(kind: Kind, items: ApiObject[], format: OutputFormat, opts: TableOptions): string {
  if (format === 'json') return toJson({ items });
  if (format === 'yaml') return toYaml({ items });
  if (format === 'name') return sortForTable(kind, items).map((o) => `${nameLine(o)}\n`).join('');
  const cols = columnsFor(kind, { wide: format === 'wide', allNamespaces: opts.allNamespaces });
  const rows = sortForTable(kind, items).map((o) => cols.map((c) => c.cell(o, opts.now)));
  return renderTable(
    cols.map((c) => c.header),
    rows,
  );
}

/** Renders one object in the chosen format (a table of one row for table/wide). */
export function renderOne(obj: ApiObject, format: OutputFormat, now: Date): string {
  if (format === 'json') return toJson(obj);
  if (format === 'yaml') return toYaml(obj);
  if (format === 'name') return `${nameLine(obj)}\n`;
  return renderList(obj.kind, [obj], format, { allNamespaces: false, now });
}

/** `service/web`: the line `-o name` prints for an object. */
export function nameLine(o: ApiObject): string {
  return displayName({ kind: o.kind, name: o.metadata.name });
}

/** Pretty JSON with a final newline. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, null, 2) + '\n';
}

/** One YAML document. */
export function toYaml(value: unknown): string {
  return stringify(value, { lineWidth: 0 });
}
