import { sql } from 'kysely';
import type { SqlContext } from './sql-context';

/** One space-wide value of `core_data`; `null` when the key is missing. */
export async function readCoreValue(ctx: SqlContext, path: string): Promise<unknown> {
  const row = await ctx.db
    .selectFrom('core_data')
    .select('value')
    .where('space_id', '=', ctx.spaceId)
    .where('path', '=', path)
    .executeTakeFirst();
  return row?.value ?? null;
}

/** Every space-wide value of `core_data`, folded into one object by key. */
export async function readCoreObject(ctx: SqlContext): Promise<Record<string, unknown>> {
  const rows = await ctx.db
    .selectFrom('core_data')
    .select(['path', 'value'])
    .where('space_id', '=', ctx.spaceId)
    .execute();
  return Object.fromEntries(rows.map((row) => [row.path, row.value]));
}

/** Upserts one space-wide value; `json` is the value serialized by `toJsonParam`. */
export async function writeCoreValue(ctx: SqlContext, path: string, json: string): Promise<void> {
  await ctx.db
    .insertInto('core_data')
    .values({ space_id: ctx.spaceId, path, value: json })
    .onConflict((oc) =>
      oc
        .columns(['space_id', 'path'])
        .doUpdateSet({ value: (eb) => eb.ref('excluded.value'), updated_at: sql`now()` }),
    )
    .execute();
}
