/**
 * Parsing and walking the bundle for the AST guards. The walk is generic over
 * ESTree keys, so no visitor table has to be kept in step with acorn.
 */
import { parse, type Node, type Program } from 'acorn';

/** Parses the bundle as a script of any syntax level; the es5-syntax guard is the one that judges the level. */
export function parseBundle(code: string): Program {
  return parse(code, { ecmaVersion: 'latest', sourceType: 'script', locations: true });
}

export type Visitor = (node: Node, ancestors: readonly Node[]) => void;

export function walk(root: Node, visit: Visitor): void {
  const ancestors: Node[] = [];
  const visitNode = (node: Node): void => {
    visit(node, ancestors);
    ancestors.push(node);
    for (const value of Object.values(node)) {
      if (Array.isArray(value)) {
        for (const item of value) if (isNode(item)) visitNode(item);
      } else if (isNode(value)) {
        visitNode(value);
      }
    }
    ancestors.pop();
  };
  visitNode(root);
}

function isNode(value: unknown): value is Node {
  return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string';
}

/** The literal string value of a node, if it is one. */
export function stringValue(node: Node | undefined | null): string | undefined {
  if (node?.type !== 'Literal') return undefined;
  const value = (node as Node & { value?: unknown }).value;
  return typeof value === 'string' ? value : undefined;
}

/** 1-based line and 0-based column of a node, as SourceLocator expects. */
export function startOf(node: Node): { readonly line: number; readonly column: number } {
  const start = node.loc?.start;
  if (!start) throw new Error('the bundle must be parsed with locations');
  return { line: start.line, column: start.column };
}
