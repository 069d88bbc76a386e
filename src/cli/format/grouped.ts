/**
 * Tables for `get all` and for `get --watch`: several kinds one after the other, each under its
 * own header, names written `kind/name` as kubectl does; and the single line printed for one
 * change while watching, aligned with the table printed before it.
 */
import type { ApiObject, Kind } from '../../api/object.js';
import { columnsFor, sortForTable, type Column } from './columns.js';
import { nameLine, type OutputFormat } from './output.js';
import { renderTable } from './table.js';

/** How one kind's table is shaped. */
export interface GroupTableOptions {
  wide: boolean;
  allNamespaces: boolean;
  /** Write names as `kind/name` (several kinds in one output). */
  prefixKind: boolean;
  now: Date;
}

/** Headers and rows of one kind's table, kept so that later change lines align with it. */
export interface TableCells {
  headers: string[];
  rows: string[][];
  columns: Column[];
}

function columns(kind: Kind, opts: GroupTableOptions): Column[] {
  const cols = columnsFor(kind, { wide: opts.wide, allNamespaces: opts.allNamespaces });
  if (!opts.prefixKind) return cols;
  return cols.map((c) => (c.header === 'NAME' ? { header: 'NAME', cell: (o: ApiObject) => nameLine(o) } : c));
}

/** The cells of one kind's table. */
export function tableCells(kind: Kind, items: ApiObject[], opts: GroupTableOptions): TableCells {
  const cols = columns(kind, opts);
  return {
    columns: cols,
    headers: cols.map((c) => c.header),
    rows: sortForTable(kind, items).map((o) => cols.map((c) => c.cell(o, opts.now))),
  };
}

/** Tables of several kinds, empty ones left out, a blank line between them. */
export function renderGroups(groups: { kind: Kind; items: ApiObject[] }[], opts: GroupTableOptions): string {
  return groups
    .filter((g) => g.items.length > 0)
    .map((g) => {
      const t = tableCells(g.kind, g.items, opts);
      return renderTable(t.headers, t.rows);
    })
    .join('\n');
}

/** One row for `obj`, padded like the table `base` was printed. */
export function changeRow(base: TableCells, obj: ApiObject, now: Date): string {
  const row = base.columns.map((c) => c.cell(obj, now));
  const lines = renderTable(base.headers, [...base.rows, row]).trimEnd().split('\n');
  return lines[lines.length - 1] ?? '';
}

/** True for the formats that print tables. */
export function isTableFormat(format: OutputFormat): boolean {
  return format === 'table' || format === 'wide';
}
