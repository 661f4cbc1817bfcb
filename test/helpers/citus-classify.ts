/**
 * How Citus would run each statement the aggregator sends, were its tables
 * laid out as docs/scale.md ("Distributing with Citus") proposes: decided
 * from the statement's parse tree (PostgreSQL's own parser, libpg-query),
 * never from its text. Used by test/faults/citus-statements.test.ts, which
 * captures the statements with pg_stat_statements and holds docs/scale.md's
 * table to what this module finds.
 *
 * The rules are Citus's for distributed queries (docs.citusdata.com,
 * "Query Processing" and "SQL Support and Workarounds"):
 * - router: every distributed table is filtered to one value of the
 *   distribution column (an equality with a constant or parameter, or a
 *   join on the column with a table that is): one shard group, and every
 *   SQL feature works;
 * - pushdown: several shards, and each runs the statement on its own
 *   shards: the distributed tables are joined on the distribution column
 *   (co-located), or there is one; reference tables and intermediate
 *   results (CTEs, unnest) may join in; the coordinator merges the results
 *   (aggregates Citus can combine, ORDER BY … LIMIT);
 * - coordinator: supported, through the coordinator: an INSERT … SELECT
 *   whose rows do not come from a co-located distributed table, a
 *   subquery or CTE planned on its own (recursive planning) and sent to the
 *   shards as an intermediate result, an aggregate Citus cannot combine
 *   (rows gathered);
 * - reference: only reference tables, tables kept on the coordinator, or
 *   no table;
 * - ddl: schema changes, transaction control, COPY, settings;
 * - needs-change: what Citus refuses on several shards: a join of two
 *   distributed tables not on the distribution column, FOR UPDATE,
 *   GROUPING SETS, DISTINCT aggregates other than count, a correlated
 *   subquery not correlated on the distribution column (or one with
 *   aggregates and no GROUP BY), volatile functions in UPDATE, changing the
 *   distribution column.
 * A statement this module cannot decide is `undecided`, with the reason.
 */
import { loadModule, parseSync } from 'libpg-query'

/** The Citus classes of a statement. */
export const VERDICTS = ['router', 'pushdown', 'coordinator', 'reference', 'ddl', 'needs-change', 'undecided'] as const
export type Verdict = (typeof VERDICTS)[number]

/** A verdict and why. */
export interface Classification {
  verdict: Verdict
  reason: string
}

/** Where each table lives on a Citus cluster. */
export interface Layout {
  /** Distributed tables and their distribution column (all co-located). */
  distributed: Readonly<Record<string, string>>
  /** Reference tables (a copy on every node). */
  reference: ReadonlySet<string>
  /** Tables kept on the coordinator only, temporary tables and transition tables. */
  local: ReadonlySet<string>
}

/** docs/scale.md's layout. A month partition (measurements_2024_01) is its parent's. */
export const LAYOUT: Layout = {
  distributed: { measurements: 'probe_cc', tl_hour: 'probe_cc', tl_day: 'probe_cc', tl_dirty: 'probe_cc', tl_events: 'probe_cc' },
  reference: new Set(['probes', 'tl_probes', 'tl_sources', 'server_secrets', 'target_lists', 'fingerprint_lists', 'webhooks', 'blockpage_candidates']),
  local: new Set(['schema_migrations', 'archived_months', 'webhook_deliveries', 'bw_ingest', 'tl_batch', 'tl_new', 'tl_old', 'pg_inherits', 'pg_class', 'pg_database', 'pg_stat_statements'])
}

/** The table a name stands for: a month partition is `measurements`. */
export const logicalTable = (name: string): string => (/^measurements_\d{4}_\d{2}$/.test(name) ? 'measurements' : name)

let loaded: Promise<void> | undefined
/** Loads the parser (WASM) once; call before classify() and statementName(). */
export async function loadParser(): Promise<void> {
  await (loaded ??= loadModule())
}

type N = any // a libpg-query parse-tree node: { KindName: { …fields } }

const kindOf = (n: N): string => Object.keys(n)[0]
const bodyOf = (n: N): N => n[kindOf(n)]

/** Parses one statement; throws with the statement when it is not one. */
export function parseOne(sql: string): N {
  const r = parseSync(sql)
  if (r.stmts?.length !== 1) throw new Error(`expected one statement, got ${String(r.stmts?.length ?? 0)}: ${sql.slice(0, 200)}`)
  return r.stmts[0].stmt
}

const VERBS: Record<string, string> = { SelectStmt: 'SELECT', InsertStmt: 'INSERT', UpdateStmt: 'UPDATE', DeleteStmt: 'DELETE' }

/**
 * The name a captured statement is keyed by in docs/scale.md: the leading
 * `/* bw:module.function *\/` comment the store puts on each statement it
 * sends; for a statement without one, its verb and tables
 * (`nested: INSERT tl_hour ← tl_batch, tl_probes` for one a database
 * function ran, `sql: BEGIN` for short ones sent as they are), or null when
 * it has no name (the test then fails, naming it).
 */
export function statementName(sql: string, toplevel: boolean): string | null {
  const m = /^\s*\/\*\s*bw:([\w.-]+)\s*\*\//.exec(sql)
  if (m !== null) return m[1]
  let stmt: N
  try {
    stmt = parseOne(sql)
  } catch {
    // A PL/pgSQL condition (IF EXISTS (…)) is run as SELECT <expression>.
    if (toplevel) return null
    try {
      stmt = parseOne(`SELECT ${sql}`)
    } catch {
      return null
    }
    return `nested: expression ${[...new Set(relNames(stmt).map(logicalTable))].sort().join(', ')}`.trim()
  }
  const kind = kindOf(stmt)
  const verb = VERBS[kind]
  if (!toplevel) {
    if (verb === undefined) return `nested: ${kind}`
    const target = kind === 'SelectStmt' ? null : logicalTable(bodyOf(stmt).relation.relname)
    const tables = [...new Set(relNames(stmt).map(logicalTable))].filter(t => t !== target).sort()
    return `nested: ${verb}${target !== null ? ' ' + target : ''}${tables.length > 0 ? (target !== null ? ' ← ' : ' ') + tables.join(', ') : ''}`
  }
  const flat = sql
    .replace(/--[^\n]*\n/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
  if (verb === undefined) return kind === 'CopyStmt' ? `utility: COPY ${String(bodyOf(stmt).relation?.relname)}` : `utility: ${flat.split(' ')[0].toUpperCase()}`
  return flat.length <= 100 ? `sql: ${flat}` : null
}

/** Every table name a statement reads or writes (not its CTEs' names). */
function relNames(n: N): string[] {
  const out: string[] = []
  const ctes = new Set<string>()
  walk(n, x => {
    if (x.RangeVar !== undefined) out.push(x.RangeVar.relname)
    if (x.CommonTableExpr !== undefined) ctes.add(x.CommonTableExpr.ctename)
  })
  return out.filter(t => !ctes.has(t))
}

/** Calls `f` on every object in the tree. */
function walk(n: N, f: (x: N) => void): void {
  if (n === null || typeof n !== 'object') return
  if (Array.isArray(n)) {
    for (const x of n) walk(x, f)
    return
  }
  f(n)
  for (const v of Object.values(n)) walk(v, f)
}

// ---- scopes -----------------------------------------------------------------

type RefKind = 'distributed' | 'reference' | 'local' | 'derived'

/** One relation in a FROM list (or an INSERT/UPDATE/DELETE's target). */
interface Ref {
  id: number
  table: string
  alias: string
  kind: RefKind
  scope: Scope
  /** For a CTE or subquery: the distributed ref each output column passes through unchanged. */
  passes?: Map<string, Ref>
  /** An INSERT's target: not visible from its SELECT. */
  target?: boolean
}

/** One query level: a SELECT, or the body of an INSERT, UPDATE or DELETE. */
interface Scope {
  id: number
  parent: Scope | null
  refs: Ref[]
  ctes: Map<string, Map<string, Ref>>
  /** Equalities in conjunctive position (WHERE, inner JOIN … ON). */
  equalities: Array<[N, N]>
  /** ANDed conditions that pin a column to one value: col = const, col IN (one). */
  outerJoinQuals: N[]
  grouped: N[]
  groupingSets: boolean
  aggregates: Array<{ name: string; distinct: boolean }>
  locking: boolean
  lateral: boolean
  /** A subquery or CTE Citus may plan on its own (not correlated). */
  own: boolean
  node: N
}

interface Analysis {
  scopes: Scope[]
  refs: Ref[]
  problems: string[]
  viaCoordinator: string[]
}

let ids = 0

function newScope(parent: Scope | null, node: N, own: boolean, lateral = false): Scope {
  return { id: ids++, parent, refs: [], ctes: new Map(), equalities: [], outerJoinQuals: [], grouped: [], groupingSets: false, aggregates: [], locking: false, lateral, own, node }
}

function tableKind(layout: Layout, name: string): RefKind {
  const t = logicalTable(name)
  if (layout.distributed[t] !== undefined) return 'distributed'
  if (layout.reference.has(t)) return 'reference'
  return 'local'
}

/** The conjuncts of a boolean expression (AND flattened); OR/NOT are left whole. */
function conjuncts(e: N | undefined): N[] {
  if (e === undefined || e === null) return []
  if (e.BoolExpr !== undefined && e.BoolExpr.boolop === 'AND_EXPR') return e.BoolExpr.args.flatMap(conjuncts)
  return [e]
}

const stripCast = (e: N): N => (e?.TypeCast !== undefined ? stripCast(e.TypeCast.arg) : e)

function findCte(s: Scope | null, name: string): Map<string, Ref> | undefined {
  for (let x = s; x !== null; x = x.parent) {
    const c = x.ctes.get(name)
    if (c !== undefined) return c
  }
  return undefined
}

class Analyzer {
  readonly a: Analysis = { scopes: [], refs: [], problems: [], viaCoordinator: [] }
  constructor(readonly layout: Layout) {}

  addRef(s: Scope, table: string, alias: string | undefined, passes?: Map<string, Ref>): Ref {
    const kind: RefKind = passes !== undefined ? 'derived' : tableKind(this.layout, table)
    const r: Ref = { id: this.a.refs.length, table: logicalTable(table), alias: alias ?? table, kind, scope: s, passes }
    s.refs.push(r)
    this.a.refs.push(r)
    return r
  }

  /** Analyses a query (any statement kind) as a new scope; returns its output pass-through columns. */
  query(n: N, parent: Scope | null, own: boolean, lateral = false): { scope: Scope; passes: Map<string, Ref> } {
    const kind = kindOf(n)
    const b = bodyOf(n)
    const s = newScope(parent, n, own, lateral)
    this.a.scopes.push(s)
    if (b.withClause !== undefined) {
      if (b.withClause.WithClause?.recursive === true || b.withClause.recursive === true) this.a.problems.push('a recursive CTE runs on one shard only')
      for (const c of (b.withClause.WithClause ?? b.withClause).ctes ?? []) {
        const cte = c.CommonTableExpr
        const inner = this.query(cte.ctequery, s, true)
        s.ctes.set(cte.ctename, inner.passes)
      }
    }
    if (kind === 'SelectStmt') return { scope: s, passes: this.select(b, s) }
    if (kind === 'InsertStmt') {
      this.insert(b, s)
      return { scope: s, passes: new Map() }
    }
    if (kind === 'UpdateStmt' || kind === 'DeleteStmt') return { scope: s, passes: this.modify(kind, b, s) }
    throw new Error(`not a query: ${kind}`)
  }

  select(b: N, s: Scope): Map<string, Ref> {
    if (b.op !== undefined && b.op !== 'SETOP_NONE') {
      // UNION …: each side is a query of its own.
      // UNION …: each side is a query Citus plans on its own.
      this.query({ SelectStmt: b.larg }, s.parent, true)
      this.query({ SelectStmt: b.rarg }, s.parent, true)
      s.node = { SetOp: true }
      return new Map()
    }
    for (const f of b.fromClause ?? []) this.from(f, s)
    for (const c of conjuncts(b.whereClause)) this.qual(c, s)
    if (b.lockingClause !== undefined) s.locking = true
    for (const g of b.groupClause ?? []) {
      if (g.GroupingSet !== undefined) {
        s.groupingSets = true
        continue
      }
      s.grouped.push(g)
    }
    this.expressions([b.targetList, b.whereClause, b.havingClause, b.sortClause], s)
    // Output columns that are a distributed table's distribution column, unchanged.
    const passes = new Map<string, Ref>()
    for (const t of b.targetList ?? []) {
      const rt = t.ResTarget
      const v = stripCast(rt.val)
      if (v?.ColumnRef === undefined) {
        if (v?.ColumnRef === undefined && rt.val?.ColumnRef?.fields?.[0]?.A_Star !== undefined) continue
        continue
      }
      const fields = v.ColumnRef.fields
      if (fields[fields.length - 1].A_Star !== undefined) {
        for (const r of this.starRefs(fields, s)) this.passAll(r, passes)
        continue
      }
      const col = fields[fields.length - 1].String.sval
      const name = rt.name ?? col
      const r = this.resolveDist(v, s)
      if (r !== null) passes.set(name, r)
    }
    if (b.valuesLists !== undefined) this.expressions([b.valuesLists], s)
    return passes
  }

  starRefs(fields: N[], s: Scope): Ref[] {
    if (fields.length === 1) return s.refs
    const alias = fields[0].String.sval
    return s.refs.filter(r => r.alias === alias)
  }

  passAll(r: Ref, passes: Map<string, Ref>): void {
    if (r.kind === 'distributed') passes.set(this.layout.distributed[r.table], r)
    else if (r.passes !== undefined) for (const [k, v] of r.passes) passes.set(k, v)
  }

  insert(b: N, s: Scope): void {
    const target = this.addRef(s, b.relation.relname, b.relation.alias?.aliasname)
    target.target = true
    const cols: string[] = (b.cols ?? []).map((c: N) => c.ResTarget.name)
    if (b.onConflictClause !== undefined) this.expressions([b.onConflictClause], s)
    this.expressions([b.returningList], s)
    if (b.selectStmt === undefined) return
    const sel = b.selectStmt.SelectStmt
    if (sel.valuesLists !== undefined) {
      this.expressions([sel.valuesLists], s)
      if (target.kind !== 'distributed') return
      const i = cols.indexOf(this.layout.distributed[target.table])
      const rows = sel.valuesLists as N[]
      if (i >= 0 && rows.length === 1 && this.constant(rows[0].List.items[i], s)) s.equalities.push([this.colOf(target), { A_Const: {} }])
      return
    }
    const inner = this.query(b.selectStmt, s, false)
    // Its SELECT's tables, and its CTEs' (a DELETE … RETURNING feeding the INSERT).
    const innerHasDist = this.a.refs.some(r => r.kind === 'distributed' && r !== target)
    if (target.kind !== 'distributed') {
      if (innerHasDist) this.a.viaCoordinator.push(`INSERT into ${target.table} (not distributed) from a distributed SELECT: the rows come back through the coordinator`)
      return
    }
    const col = this.layout.distributed[target.table]
    const i = cols.indexOf(col)
    const out = i >= 0 && sel.op === 'SETOP_NONE' ? sel.targetList?.[i]?.ResTarget?.val : undefined
    if (out !== undefined && this.constant(out, inner.scope)) {
      s.equalities.push([this.colOf(target), { A_Const: {} }])
      return
    }
    const from = out !== undefined ? this.resolveDist(stripCast(out), inner.scope) : null
    if (from !== null) {
      s.equalities.push([this.colOf(target), this.colOf(from)])
      return
    }
    this.a.viaCoordinator.push(`INSERT … SELECT into ${target.table} whose ${col} does not come straight from a co-located table: Citus runs the SELECT, then routes its rows by ${col}`)
  }

  modify(kind: string, b: N, s: Scope): Map<string, Ref> {
    const target = this.addRef(s, b.relation.relname, b.relation.alias?.aliasname)
    for (const f of b.fromClause ?? b.usingClause ?? []) this.from(f, s)
    for (const c of conjuncts(b.whereClause)) this.qual(c, s)
    this.expressions([b.targetList, b.whereClause, b.returningList], s)
    if (kind === 'UpdateStmt' && target.kind === 'distributed') {
      const col = this.layout.distributed[target.table]
      for (const t of b.targetList ?? []) {
        if (t.ResTarget.name === col) this.a.problems.push(`UPDATE sets the distribution column ${col}`)
        walk(t.ResTarget.val, x => {
          const name = x.FuncCall?.funcname?.map((f: N) => f.String.sval).join('.')
          if (name !== undefined && VOLATILE.has(name)) this.a.problems.push(`UPDATE of ${target.table} calls the volatile function ${name}()`)
        })
      }
    }
    const passes = new Map<string, Ref>()
    if ((b.returningList ?? []).some((t: N) => t.ResTarget.val?.ColumnRef?.fields?.[0]?.A_Star !== undefined)) this.passAll(target, passes)
    for (const t of b.returningList ?? []) {
      const v = stripCast(t.ResTarget.val)
      if (v?.ColumnRef === undefined || v.ColumnRef.fields.at(-1).A_Star !== undefined) continue
      const r = this.resolveDist(v, s)
      if (r !== null) passes.set(t.ResTarget.name ?? v.ColumnRef.fields.at(-1).String.sval, r)
    }
    return passes
  }

  from(f: N, s: Scope): void {
    if (f.RangeVar !== undefined) {
      const cte = findCte(s, f.RangeVar.relname)
      this.addRef(s, f.RangeVar.relname, f.RangeVar.alias?.aliasname, cte)
    } else if (f.JoinExpr !== undefined) {
      const j = f.JoinExpr
      this.from(j.larg, s)
      this.from(j.rarg, s)
      if (j.jointype === 'JOIN_INNER') for (const c of conjuncts(j.quals)) this.qual(c, s)
      else s.outerJoinQuals.push(...conjuncts(j.quals))
      for (const u of j.usingClause ?? []) {
        // USING (col): an equality of the two sides' columns of that name.
        const col = u.String.sval
        const l = this.sideRefs(j.larg, s)
        const r = this.sideRefs(j.rarg, s)
        for (const a of l)
          for (const c of r) {
            const eq: [N, N] = [this.colOfNamed(a, col), this.colOfNamed(c, col)]
            if (j.jointype === 'JOIN_INNER') s.equalities.push(eq)
            else s.outerJoinQuals.push({ Eq: eq })
          }
      }
      this.expressions([j.quals], s)
    } else if (f.RangeSubselect !== undefined) {
      const inner = this.query(f.RangeSubselect.subquery, s, f.RangeSubselect.lateral !== true, f.RangeSubselect.lateral === true)
      this.addRef(s, '(subquery)', f.RangeSubselect.alias?.aliasname, inner.passes)
    } else if (f.RangeFunction !== undefined) {
      this.addRef(s, '(function)', f.RangeFunction.alias?.aliasname, new Map())
      this.expressions([f.RangeFunction.functions], s)
    }
  }

  sideRefs(side: N, s: Scope): Ref[] {
    const names: string[] = []
    walk(side, x => {
      if (x.RangeVar !== undefined) names.push(x.RangeVar.alias?.aliasname ?? x.RangeVar.relname)
      if (x.RangeSubselect !== undefined) names.push(x.RangeSubselect.alias?.aliasname)
    })
    return s.refs.filter(r => names.includes(r.alias))
  }

  /** A synthetic column reference to a ref's distribution column. */
  colOf(r: Ref): N {
    return { Bound: r }
  }
  colOfNamed(r: Ref, col: string): N {
    const d = r.kind === 'distributed' ? this.layout.distributed[r.table] : undefined
    if (d === col) return { Bound: r }
    const p = r.passes?.get(col)
    return p !== undefined ? { Bound: p } : { Other: true }
  }

  qual(c: N, s: Scope): void {
    const e = c.A_Expr
    if (e === undefined) return
    const op = e.name?.[0]?.String?.sval
    if (e.kind === 'AEXPR_OP' && op === '=') s.equalities.push([e.lexpr, e.rexpr])
    if (e.kind === 'AEXPR_IN' && op === '=' && Array.isArray(e.rexpr) && e.rexpr.length === 1) s.equalities.push([e.lexpr, e.rexpr[0]])
  }

  /** Walks expressions for subqueries (their own scopes) and aggregates. */
  expressions(roots: N[], s: Scope): void {
    const visit = (n: N): void => {
      if (n === null || typeof n !== 'object') return
      if (Array.isArray(n)) {
        for (const x of n) visit(x)
        return
      }
      if (n.SubLink !== undefined) {
        visit(n.SubLink.testexpr)
        this.query(n.SubLink.subselect, s, false)
        return
      }
      if (n.FuncCall !== undefined) {
        const fc = n.FuncCall
        const name = fc.funcname.map((f: N) => f.String.sval).join('.')
        if (AGGREGATES.has(name) || fc.agg_distinct === true || fc.agg_star === true) s.aggregates.push({ name, distinct: fc.agg_distinct === true })
        if (fc.over !== undefined) s.aggregates.push({ name: `${name} OVER`, distinct: false })
      }
      for (const v of Object.values(n)) visit(v)
    }
    for (const r of roots) visit(r)
  }

  within(x: Scope, ancestor: Scope): boolean {
    for (let y: Scope | null = x; y !== null; y = y.parent) if (y === ancestor) return true
    return false
  }

  /** The distributed ref whose distribution column this expression is, or null. */
  resolveDist(e: N, s: Scope): Ref | null {
    e = stripCast(e)
    if (e?.Bound !== undefined) return e.Bound as Ref
    if (e?.ColumnRef === undefined) return null
    const fields = e.ColumnRef.fields.map((f: N) => f.String?.sval)
    const col = fields[fields.length - 1]
    const refs = this.lookup(fields, s)
    if (refs === null) return null
    for (const r of refs) {
      if (r.kind === 'distributed' && this.layout.distributed[r.table] === col) return r
      const p = r.passes?.get(col)
      if (p !== undefined) return p
    }
    return null
  }

  /** The refs a column reference may name (qualified: by alias, up the scopes; bare: the innermost scope with a match), or null when none. */
  lookup(fields: string[], s: Scope): Ref[] | null {
    const col = fields[fields.length - 1]
    for (let x: Scope | null = s; x !== null; x = x.parent) {
      const visible = x === s ? x.refs : x.refs.filter(y => y.target !== true)
      if (fields.length >= 2) {
        const r = visible.filter(y => y.alias === fields[fields.length - 2])
        if (r.length > 0) return r
      } else {
        const r = visible.filter(y => (y.kind === 'distributed' && this.layout.distributed[y.table] === col) || y.passes?.has(col) === true)
        if (r.length > 0) return r
      }
    }
    return null
  }

  /** Whether an expression names no column of the statement's tables (a constant, a parameter, a PL/pgSQL variable). */
  constant(e: N, s: Scope): boolean {
    let ok = true
    walk(e, x => {
      if (x.SubLink !== undefined || x.Bound !== undefined) ok = false
      if (x.ColumnRef !== undefined) {
        const fields = x.ColumnRef.fields.map((f: N) => f.String?.sval)
        if (fields.length === 1 || this.lookup(fields, s) !== null) ok = false
      }
    })
    return ok
  }
}

/** Aggregates Citus combines across shards. */
const AGGREGATES = new Set(['count', 'sum', 'min', 'max', 'avg', 'bool_or', 'bool_and', 'array_agg', 'string_agg', 'jsonb_agg', 'json_agg', 'tl_cat', 'every'])
/** Aggregates of our own, which Citus cannot combine (no combine function): it gathers the rows. */
const CUSTOM_AGGREGATES = new Set(['tl_cat'])
/** Volatile functions Citus refuses in a distributed UPDATE. */
const VOLATILE = new Set(['clock_timestamp', 'random', 'gen_random_uuid', 'nextval', 'timeofday'])

/** Union-find over refs. */
class Classes {
  readonly up = new Map<number, number>()
  find(i: number): number {
    const p = this.up.get(i) ?? i
    if (p === i) return i
    const r = this.find(p)
    this.up.set(i, r)
    return r
  }
  join(a: number, b: number): void {
    this.up.set(this.find(a), this.find(b))
  }
}

/** Classifies one statement against a layout. */
export function classify(sql: string, layout: Layout = LAYOUT): Classification {
  let stmt: N
  try {
    stmt = parseOne(sql)
  } catch (err) {
    try {
      stmt = parseOne(`SELECT ${sql}`)
    } catch {
      return { verdict: 'undecided', reason: `does not parse: ${(err as Error).message}` }
    }
  }
  const kind = kindOf(stmt)
  if (kind === 'CopyStmt') {
    const t = bodyOf(stmt).relation?.relname ?? ''
    return tableKind(layout, t) === 'distributed'
      ? { verdict: 'pushdown', reason: `COPY into ${logicalTable(t)}: Citus routes each row by ${layout.distributed[logicalTable(t)]}` }
      : { verdict: 'ddl', reason: `COPY into ${t}, a table on the coordinator` }
  }
  if (VERBS[kind] === undefined) return { verdict: 'ddl', reason: `${kind.replace(/Stmt$/, '')}: a utility statement` }
  const an = new Analyzer(layout)
  let top: Scope
  try {
    top = an.query(stmt, null, false).scope
  } catch (err) {
    return { verdict: 'undecided', reason: (err as Error).message }
  }
  const { refs, scopes, problems, viaCoordinator } = an.a
  const dist = refs.filter(r => r.kind === 'distributed')
  if (dist.length === 0) {
    const tables = [...new Set(refs.filter(r => r.kind !== 'derived').map(r => r.table))]
    return { verdict: 'reference', reason: tables.length === 0 ? 'reads no table' : `only ${tables.join(', ')}: reference tables or tables on the coordinator` }
  }
  // Co-location classes and pinned classes, from the equalities.
  const cls = new Classes()
  const pinned = new Set<number>()
  for (const s of scopes) {
    for (const [l, r] of s.equalities) {
      const a = an.resolveDist(l, s)
      const b = an.resolveDist(r, s)
      if (a !== null && b !== null) cls.join(a.id, b.id)
      else if (a !== null && an.constant(r, s)) pinned.add(a.id)
      else if (b !== null && an.constant(l, s)) pinned.add(b.id)
    }
  }
  for (const s of scopes) {
    for (const q of s.outerJoinQuals) {
      const eq = q.Eq ?? (q.A_Expr?.kind === 'AEXPR_OP' && q.A_Expr.name[0].String.sval === '=' ? [q.A_Expr.lexpr, q.A_Expr.rexpr] : null)
      if (eq === null) continue
      const a = an.resolveDist(eq[0], s)
      const b = an.resolveDist(eq[1], s)
      if (a !== null && b !== null) cls.join(a.id, b.id)
    }
  }
  const pinnedRoots = new Set([...pinned].map(i => cls.find(i)))
  const roots = [...new Set(dist.map(r => cls.find(r.id)))]
  const names = [...new Set(dist.map(r => r.table))].join(', ')
  const col = [...new Set(dist.map(r => layout.distributed[r.table]))].join(', ')
  if (roots.every(r => pinnedRoots.has(r))) {
    return roots.length === 1
      ? { verdict: 'router', reason: `${names} filtered to one ${col} (equality${dist.length > 1 ? ', joined on it' : ''}): one shard group` }
      : { verdict: 'router', reason: `each of ${names} filtered to one ${col}: one shard group when the values are the same` }
  }
  // Several shards: what Citus refuses there.
  const distScopes = scopes.filter(s => s.refs.some(r => r.kind === 'distributed') || s.refs.some(r => r.kind === 'derived' && r.passes !== undefined && r.passes.size > 0))
  for (const s of distScopes) {
    const groupedOnDist = s.grouped.some(g => an.resolveDist(g, s) !== null || (g.A_Const !== undefined && outputIsDist(an, s, g)))
    if (s.locking) problems.push('SELECT … FOR UPDATE on several shards')
    const b = bodyOf(s.node)
    const unpinned = s.refs.some(r => r.kind === 'distributed' && !pinnedRoots.has(cls.find(r.id)))
    if (s !== top && unpinned && (b?.limitCount !== undefined || (s.aggregates.length > 0 && !groupedOnDist))) {
      viaCoordinator.push(
        `a subquery or CTE over several shards with ${b?.limitCount !== undefined ? 'LIMIT' : `aggregates not grouped by ${col}`}: Citus plans it on its own and sends its rows to the shards as an intermediate result`
      )
    }
    if (s.groupingSets && s.refs.some(r => r.kind === 'distributed')) problems.push('GROUPING SETS on several shards')
    for (const ag of s.aggregates) {
      if (ag.distinct && ag.name !== 'count' && !groupedOnDist && s.refs.some(r => r.kind === 'distributed')) problems.push(`${ag.name}(DISTINCT …) over several shards, not grouped by ${col}`)
      if (CUSTOM_AGGREGATES.has(ag.name) && !groupedOnDist) viaCoordinator.push(`the aggregate ${ag.name} has no combine function: Citus gathers the rows on the coordinator`)
      if (ag.name.endsWith(' OVER') && !groupedOnDist) problems.push(`a window function (${ag.name}) over several shards`)
    }
  }
  // Correlated subqueries: a scope whose columns name an outer scope's refs.
  for (const s of scopes) {
    if (s.parent === null) continue
    const outer = correlations(an, s)
    if (outer.length === 0) continue
    const inner = refs.filter(r => r.kind === 'distributed' && an.within(r.scope, s))
    if (inner.length === 0) continue
    const onDist = inner.every(r => outer.some(o => o.kind === 'distributed' && cls.find(o.id) === cls.find(r.id)))
    if (!onDist && !inner.every(r => pinnedRoots.has(cls.find(r.id)))) problems.push(`a correlated subquery on ${[...new Set(inner.map(r => r.table))].join(', ')} not correlated on ${col}`)
    else if (s.grouped.length === 0 && s.aggregates.length > 0 && !inner.every(r => pinnedRoots.has(cls.find(r.id))))
      problems.push('a correlated subquery with aggregates and no GROUP BY (Citus: unsupported when it references another query)')
  }
  // Distributed tables not joined on the distribution column.
  if (roots.length > 1) {
    const byRoot = new Map<number, Ref[]>()
    for (const r of dist) {
      const k = cls.find(r.id)
      byRoot.set(k, [...(byRoot.get(k) ?? []), r])
    }
    for (const s of scopes) {
      const here = new Set(s.refs.filter(r => r.kind === 'distributed').map(r => cls.find(r.id)))
      if (here.size > 1)
        problems.push(
          `${s.refs
            .filter(r => r.kind === 'distributed')
            .map(r => r.table)
            .join(' and ')} joined not on ${col} (a repartition join)`
        )
    }
    const ownScopes = [...byRoot.values()].filter(rs => rs.every(r => ownedBy(r.scope, top)))
    if (ownScopes.length >= roots.length - 1)
      viaCoordinator.push('a subquery or CTE on a distributed table not joined on the distribution column: planned on its own, its rows go to the shards as an intermediate result')
    else problems.push(`distributed tables not joined on ${col}`)
  }
  for (const s of scopes) {
    if (s.refs.some(r => r.kind === 'distributed') && s.refs.some(r => r.kind === 'local' && !['(function)'].includes(r.table))) {
      viaCoordinator.push(
        `a join of ${s.refs
          .filter(r => r.kind === 'distributed')
          .map(r => r.table)
          .join(', ')} with ${s.refs
          .filter(r => r.kind === 'local')
          .map(r => r.table)
          .join(', ')} (on the coordinator): Citus plans the local table apart and sends it to the shards`
      )
    }
  }
  if (problems.length > 0) return { verdict: 'needs-change', reason: [...new Set(problems)].join('; ') }
  if (viaCoordinator.length > 0) return { verdict: 'coordinator', reason: [...new Set(viaCoordinator)].join('; ') }
  return { verdict: 'pushdown', reason: dist.length > 1 ? `${names} joined on ${col}: each shard group runs it` : `${names} on every shard, results merged by the coordinator` }
}

/** Whether a scope lies inside a CTE or an uncorrelated subquery of the statement (Citus can plan it on its own). */
function ownedBy(s: Scope, top: Scope): boolean {
  for (let x: Scope | null = s; x !== null && x !== top; x = x.parent) if (x.own) return true
  return false
}

/** GROUP BY 2: whether output column 2 is the distribution column. */
function outputIsDist(an: Analyzer, s: Scope, g: N): boolean {
  const i = Number(g.A_Const.ival?.ival ?? 0) - 1
  const t = bodyOf(s.node).targetList?.[i]?.ResTarget?.val
  return t !== undefined && an.resolveDist(t, s) !== null
}

/** The outer refs a scope's column references name. */
function correlations(an: Analyzer, s: Scope): Ref[] {
  const out: Ref[] = []
  const own = (r: Ref): boolean => an.within(r.scope, s)
  walk(bodyOf(s.node), x => {
    if (x.ColumnRef === undefined) return
    const fields = x.ColumnRef.fields.map((f: N) => f.String?.sval)
    if (fields.length < 2) return
    // Qualified: the innermost scope that has that alias, seen from where the reference is.
    const refs = an.a.refs.filter(r => r.alias === fields[fields.length - 2])
    if (refs.length === 0 || refs.some(own)) return
    for (const r of refs) if (an.within(s, r.scope)) out.push(r)
  })
  return out
}
