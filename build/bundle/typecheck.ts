/**
 * The type check is the only gate for mistakes the bundle guards cannot see
 * (for example `[].includes`, which tsconfig's ES5 lib rejects). Run in-process
 * with the compiler API: no second Node start-up, and diagnostics come back
 * structured, so they are reported as file:line.
 */
import ts from 'typescript';
import { relative, sep } from 'node:path';

/** Returns one "file:line:col error TSxxxx: message" per diagnostic; empty when the project compiles. */
export function typeCheck(tsconfigPath: string, projectRoot: string): string[] {
  const configErrors: ts.Diagnostic[] = [];
  const config = ts.getParsedCommandLineOfConfigFile(
    tsconfigPath,
    { noEmit: true },
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (diagnostic) => configErrors.push(diagnostic),
    },
  );
  if (!config) return configErrors.map((d) => formatDiagnostic(d, projectRoot));
  const program = ts.createProgram({
    rootNames: config.fileNames,
    options: config.options,
    projectReferences: config.projectReferences ?? [],
  });
  return [...config.errors, ...ts.getPreEmitDiagnostics(program)].map((d) => formatDiagnostic(d, projectRoot));
}

function formatDiagnostic(diagnostic: ts.Diagnostic, projectRoot: string): string {
  const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
  const code = `error TS${diagnostic.code}`;
  if (!diagnostic.file || diagnostic.start === undefined) return `${code}: ${message}`;
  const { line, character } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
  const file = relative(projectRoot, diagnostic.file.fileName).split(sep).join('/');
  return `${file}:${line + 1}:${character + 1} ${code}: ${message}`;
}
