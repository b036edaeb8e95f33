import ts from 'typescript';

/** A command built so that a value could reach the shell unquoted. */
export interface UnquotedCommand {
  readonly file: string;
  /** 1-based. */
  readonly line: number;
  readonly code: string;
  readonly reason: string;
}

type Verdict = { readonly kind: 'safe' } | { readonly kind: 'unknown' } | { readonly kind: 'unsafe'; readonly node: ts.Node; readonly reason: string };

const SAFE: Verdict = { kind: 'safe' };
const UNKNOWN: Verdict = { kind: 'unknown' };

/**
 * Finds shell commands built from values without the `sh` tag, by reading the code with the
 * TypeScript checker rather than by pattern. A command is what reaches `<runner>.run(...)`,
 * `<runner>.spawn(...)` (a receiver with a `where`, i.e. a CommandRunner) or `runChecked(runner, ...)`,
 * and what `raw(...)` marks as already-quoted. An expression is followed through consts, `? :`, `+`,
 * `.join()` of arrays, and the return statements of project functions it calls. Interpolating a
 * value into an untagged template or concatenating it is unsafe unless its type is a literal (or a
 * number). A command from a parameter cannot be judged here (its caller is); raw() must be provably
 * safe. The rules are syntactic and typed, so a finding is a real construct, not a guess.
 */
export function findUnquotedCommands(program: ts.Program, isProjectFile: (fileName: string) => boolean): { findings: UnquotedCommand[]; sinkCount: number } {
  const checker = program.getTypeChecker();
  const findings: UnquotedCommand[] = [];
  let sinkCount = 0;

  const report = (node: ts.Node, reason: string): void => {
    const source = node.getSourceFile();
    const { line } = source.getLineAndCharacterOfPosition(node.getStart());
    findings.push({ file: source.fileName, line: line + 1, code: node.getText().replace(/\s+/g, ' ').slice(0, 120), reason });
  };

  const isConstantType = (type: ts.Type): boolean => {
    if (type.isUnion()) return type.types.every(isConstantType);
    return type.isStringLiteral() || type.isNumberLiteral() || (type.flags & (ts.TypeFlags.Number | ts.TypeFlags.BooleanLiteral | ts.TypeFlags.Boolean)) !== 0;
  };

  /** Arrays and tuples whose elements are all literal: their join() is constant too. */
  const hasConstantElements = (type: ts.Type): boolean => {
    const elements = checker.isTupleType(type) ? checker.getTypeArguments(type as ts.TypeReference) : checker.isArrayType(type) ? checker.getTypeArguments(type as ts.TypeReference) : undefined;
    return elements !== undefined && elements.every(isConstantType);
  };

  /** The declaration the checker resolves a name or call to. */
  const declarationOf = (node: ts.Node): ts.Declaration | undefined => {
    let symbol = checker.getSymbolAtLocation(node);
    if (symbol !== undefined && (symbol.flags & ts.SymbolFlags.Alias) !== 0) symbol = checker.getAliasedSymbol(symbol);
    return symbol?.declarations?.[0];
  };

  const isShTag = (tag: ts.Expression): boolean => ts.isIdentifier(tag) && tag.text === 'sh' && (declarationOf(tag)?.getSourceFile().fileName.endsWith('/harness/shell.ts') ?? false);

  const judge = (node: ts.Expression, seen: Set<ts.Node>): Verdict => {
    if (seen.has(node)) return UNKNOWN;
    seen.add(node);
    if (ts.isParenthesizedExpression(node) || ts.isAsExpression(node) || ts.isNonNullExpression(node)) return judge(node.expression, seen);
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node) || ts.isNumericLiteral(node)) return SAFE;
    if (ts.isTaggedTemplateExpression(node)) return isShTag(node.tag) ? SAFE : UNKNOWN;
    if (ts.isTemplateExpression(node)) return worst(node.templateSpans.map((span) => judgeInterpolated(span.expression, seen, 'an untagged template')));
    if (ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.PlusToken) {
      return worst([judgeInterpolated(node.left, seen, 'a + concatenation'), judgeInterpolated(node.right, seen, 'a + concatenation')]);
    }
    if (ts.isConditionalExpression(node)) return worst([judge(node.whenTrue, seen), judge(node.whenFalse, seen)]);
    if (ts.isArrayLiteralExpression(node)) {
      return worst(node.elements.map((element) => (ts.isSpreadElement(element) ? judge(element.expression, seen) : judge(element, seen))));
    }
    if (isConstantType(checker.getTypeAtLocation(node))) return SAFE;
    if (ts.isIdentifier(node)) {
      const declaration = declarationOf(node);
      const isConst = declaration !== undefined && ts.isVariableDeclaration(declaration) && (ts.getCombinedNodeFlags(declaration) & ts.NodeFlags.Const) !== 0;
      return isConst && declaration.initializer !== undefined ? judge(declaration.initializer, seen) : UNKNOWN;
    }
    if (ts.isCallExpression(node)) return judgeCall(node, seen);
    return UNKNOWN;
  };

  /**
   * The command a runner's own run(command) was given, passed on inside a wrapper (a prelude, a
   * marker): it is a whole command, and judged where run() is called.
   */
  const isRunnersOwnCommand = (node: ts.Expression): boolean => {
    if (!ts.isIdentifier(node)) return false;
    const declaration = declarationOf(node);
    if (declaration === undefined || !ts.isParameter(declaration) || !ts.isFunctionLike(declaration.parent)) return false;
    const fn = declaration.parent;
    const name = fn.name ?? (ts.isPropertyAssignment(fn.parent) ? fn.parent.name : undefined);
    return fn.parameters[0] === declaration && name !== undefined && ts.isIdentifier(name) && name.text === 'run';
  };

  /** A value put into a command by a template or +: fine if it is constant or itself a safe command. */
  const judgeInterpolated = (node: ts.Expression, seen: Set<ts.Node>, how: string): Verdict => {
    if (isConstantType(checker.getTypeAtLocation(node)) || isRunnersOwnCommand(node)) return SAFE;
    const verdict = judge(node, seen);
    if (verdict.kind === 'safe' || verdict.kind === 'unsafe') return verdict;
    return { kind: 'unsafe', node, reason: `${how} puts ${node.getText()} into a command unquoted: build it with sh\`\`` };
  };

  const judgeCall = (node: ts.CallExpression, seen: Set<ts.Node>): Verdict => {
    const callee = node.expression;
    if (ts.isPropertyAccessExpression(callee) && callee.name.text === 'join') {
      if (hasConstantElements(checker.getTypeAtLocation(callee.expression))) return SAFE;
      return judge(callee.expression, seen);
    }
    const declaration = declarationOf(ts.isPropertyAccessExpression(callee) ? callee.name : callee);
    const body = declaration !== undefined && (ts.isFunctionDeclaration(declaration) || ts.isMethodDeclaration(declaration) || ts.isGetAccessorDeclaration(declaration)) ? declaration.body : undefined;
    if (body === undefined || !isProjectFile(declaration!.getSourceFile().fileName)) return UNKNOWN;
    return worst(returnedExpressions(body).map((expression) => judge(expression, seen)));
  };

  const checkSink = (node: ts.CallExpression): void => {
    const callee = node.expression;
    let command: ts.Expression | undefined;
    let isEscapeHatch = false;
    if (ts.isPropertyAccessExpression(callee) && ['run', 'spawn'].includes(callee.name.text)) {
      if (checker.getTypeAtLocation(callee.expression).getProperty('where') !== undefined) command = node.arguments[0];
    } else if (ts.isIdentifier(callee) && callee.text === 'runChecked') {
      command = node.arguments[1];
    } else if (ts.isIdentifier(callee) && callee.text === 'raw' && declarationOf(callee)?.getSourceFile().fileName.endsWith('/harness/shell.ts') === true) {
      command = node.arguments[0];
      isEscapeHatch = true;
    }
    if (command === undefined) return;
    sinkCount++;
    const verdict = judge(command, new Set());
    if (verdict.kind === 'unsafe') report(verdict.node, verdict.reason);
    else if (verdict.kind === 'unknown' && isEscapeHatch) report(command, `raw() is given ${command.getText()}, which is not provably a literal or an sh\`\` command`);
  };

  for (const source of program.getSourceFiles()) {
    if (!isProjectFile(source.fileName)) continue;
    const visit = (node: ts.Node): void => {
      if (ts.isCallExpression(node)) checkSink(node);
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  // One construct can reach several sinks (a helper called from many places): report it once.
  const unique = new Map(findings.map((finding) => [`${finding.file}:${finding.line}:${finding.code}`, finding]));
  return { findings: [...unique.values()].sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line), sinkCount };
}

function worst(verdicts: readonly Verdict[]): Verdict {
  return verdicts.find((verdict) => verdict.kind === 'unsafe') ?? verdicts.find((verdict) => verdict.kind === 'unknown') ?? SAFE;
}

/** The expressions a function body returns (not those of functions nested in it). */
function returnedExpressions(body: ts.Node): ts.Expression[] {
  const found: ts.Expression[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node)) return;
    if (ts.isReturnStatement(node) && node.expression !== undefined) found.push(node.expression);
    ts.forEachChild(node, visit);
  };
  ts.forEachChild(body, visit);
  return found;
}
