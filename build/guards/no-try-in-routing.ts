/**
 * KSR.x.exit() stops a route by throwing the string '~~ksr~exit~~'; a
 * try/catch on the way swallows it and the route carries on after the "exit".
 * Routing code therefore never catches: only the entry wrapper in src/ksr/
 * does, and it rethrows the marker. Checked on the TypeScript sources, since
 * lowering may add or move try statements in the bundle.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import ts from 'typescript';
import { GuardRefusal } from './refusal.ts';

export function checkNoTryInRouting(routingDir: string, projectRoot: string): GuardRefusal[] {
  if (!existsSync(routingDir)) return [];
  const refusals: GuardRefusal[] = [];
  for (const path of typeScriptFiles(routingDir)) {
    const source = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true);
    const file = relative(projectRoot, path).split(sep).join('/');
    const visit = (node: ts.Node): void => {
      if (ts.isTryStatement(node)) {
        const line = source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
        refusals.push(
          new GuardRefusal(
            'no-try-in-routing',
            `try statement at ${file}:${line}: routing code must not catch, because KSR.x.exit() throws ` +
              "'~~ksr~exit~~' and a catch would swallow the exit; only the entry wrapper in src/ksr/ may catch",
          ),
        );
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return refusals;
}

function typeScriptFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.ts'))
    .sort()
    .map((name) => join(dir, name));
}
