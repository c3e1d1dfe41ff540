import { InvalidArgumentError } from 'commander';
import type { ColumnType } from '../core/table.js';

/** `--column-type NAME=numerical|categorical`, repeatable: the declarations so far, with this one added. */
export function parseColumnType(value: string, previous: Record<string, ColumnType>): Record<string, ColumnType> {
  const at = value.lastIndexOf('=');
  const name = at > 0 ? value.slice(0, at) : '';
  const type = at > 0 ? value.slice(at + 1) : '';
  if (!name || (type !== 'numerical' && type !== 'categorical')) {
    throw new InvalidArgumentError(`expected NAME=numerical or NAME=categorical, got "${value}"`);
  }
  const next: Record<string, ColumnType> = Object.assign(Object.create(null) as Record<string, ColumnType>, previous);
  next[name] = type;
  return next;
}
