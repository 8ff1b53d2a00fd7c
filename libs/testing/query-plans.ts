/** A node of PostgreSQL's `EXPLAIN (FORMAT JSON)` output, as far as specs about access paths read it. */
export interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  'Relation Name'?: string;
  /** With EXPLAIN (ANALYZE): the rows the node returned. */
  'Actual Rows'?: number;
  Plans?: PlanNode[];
}

/** The plan's nodes, the root first, so a spec can ask which indexes and scans a statement uses. */
export function planNodesOf(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(planNodesOf)];
}
