import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import ts from 'typescript';

/** "Functions under 60 lines": from its first line to its last, nested functions included. */
export const FUNCTION_LINE_LIMIT = 60;

export interface FunctionLength {
  /** `file:line`, relative to the directory measured. */
  at: string;
  name: string;
  lines: number;
}

/**
 * Every function in the TypeScript files under `dir` (declarations, expressions, arrows, methods,
 * constructors and accessors), with its length in lines, longest first. A route-registration
 * closure counts whole, with the handlers written inside it.
 */
export async function functionLengths(dir: string): Promise<FunctionLength[]> {
  const files = (await readdir(dir, { recursive: true })).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')).sort();
  const found: FunctionLength[] = [];
  for (const file of files) {
    const text = await readFile(path.join(dir, file), 'utf8');
    const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
    const lineOf = (pos: number) => source.getLineAndCharacterOfPosition(pos).line + 1;
    const visit = (node: ts.Node): void => {
      if (ts.isFunctionLike(node) && 'body' in node && node.body) {
        const first = lineOf(node.getStart(source));
        found.push({ at: `${file}:${first}`, name: nameOf(node), lines: lineOf(node.getEnd()) - first + 1 });
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return found.sort((a, b) => b.lines - a.lines || a.at.localeCompare(b.at));
}

/** The function's own name, or the name it is bound to (`const f = () => …`, `{ f: () => … }`). */
function nameOf(node: ts.SignatureDeclaration): string {
  if (node.name && !ts.isComputedPropertyName(node.name)) return node.name.getText();
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  const parent = node.parent;
  if ((ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent)) && ts.isIdentifier(parent.name)) {
    return parent.name.text;
  }
  if (ts.isCallExpression(parent)) return `(argument of ${parent.expression.getText()})`;
  return '(anonymous)';
}
