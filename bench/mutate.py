"""Mutation testing of the lifecycle: put one small fault at a time into `app/domain/`, run the tests,
print the faults no test noticed (the survivors).

    .venv/bin/python -m bench.mutate                       # every row of the transition spec deleted in turn
    .venv/bin/python -m bench.mutate --target domain       # operator faults in app/domain/*.py
    .venv/bin/python -m bench.mutate --target domain --sample 40 --seed 1

Each mutant runs in a private copy of the checkout (the working tree is never touched) with
`pytest -x` over the lifecycle tests (`--tests` to choose others, `--postgres` to keep the PostgreSQL
half when EPA_TEST_POSTGRES_URL is set; by default only SQLite runs, which is enough to see a
transition refused). A mutant is *killed* when the tests fail, *survives* when they pass.

Mutants:
- `spec`: each transition row of `app/domain/transitions.py` deleted (the lifecycle then refuses it).
- `domain`: in every module of `app/domain/` except the spec, one of: an element removed from a
  set, frozenset or tuple literal; a comparison negated (`==`/`!=`, `is`/`is not`, `in`/`not in`,
  `<`/`<=`, `>`/`>=`); `and`/`or` swapped; a `not` dropped; an integer constant off by one.
"""

from __future__ import annotations

import argparse
import ast
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPEC_FILE = Path("app/domain/transitions.py")
DEFAULT_TESTS = (
    "tests/domain",
    "tests/authorizations",  # the lifecycle end to end and through its use cases, with its sub-rooms' tests
    "tests/api/test_submit.py",
    "tests/api/test_updates.py",
    "tests/operations/test_authorizations_api.py",
)


@dataclass(frozen=True, slots=True)
class Mutant:
    path: Path  # relative to the checkout
    description: str
    source: str  # the whole mutated file


def spec_mutants() -> Iterator[Mutant]:
    text = (ROOT / SPEC_FILE).read_text()
    lines = text.splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.startswith('SPEC = """')) + 1
    for index in range(start, len(lines)):
        line = lines[index]
        if line.startswith('"""'):
            break
        if not line.strip():
            continue
        row = " ".join(line.split()[:3])
        yield Mutant(SPEC_FILE, f"spec row deleted: {row}", "".join(lines[:index] + lines[index + 1 :]))


_NEGATED: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
}


def _sites(tree: ast.Module) -> Iterator[tuple[ast.AST, str]]:
    """Every place one fault can go, with what the fault is (applied by `_apply`)."""
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Set | ast.Tuple)
            and node.elts
            and not isinstance(getattr(node, "ctx", None), ast.Store)
        ):
            for index in range(len(node.elts)):
                yield node, f"drop:{index}"
        elif isinstance(node, ast.Compare):
            for index, op in enumerate(node.ops):
                if type(op) in _NEGATED:
                    yield node, f"negate:{index}"
        elif isinstance(node, ast.BoolOp):
            yield node, "swap"
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            yield node, "drop-not"
        elif isinstance(node, ast.Constant) and type(node.value) is int:
            yield node, "plus-one"


class _Replace(ast.NodeTransformer):
    def __init__(self, target: ast.AST, replacement: ast.AST) -> None:
        self.target, self.replacement = target, replacement

    def visit(self, node: ast.AST) -> ast.AST:
        return self.replacement if node is self.target else self.generic_visit(node)


def _apply(tree: ast.Module, target: ast.AST, fault: str) -> str:
    """Apply one fault in place and describe it."""
    line = getattr(target, "lineno", "?")
    kind, _, arg = fault.partition(":")
    if kind == "drop" and isinstance(target, ast.Set | ast.Tuple):
        removed = target.elts.pop(int(arg))
        return f"line {line}: {ast.unparse(removed)} removed from {{...}}"
    if kind == "negate" and isinstance(target, ast.Compare):
        index = int(arg)
        before = target.ops[index]
        target.ops[index] = _NEGATED[type(before)]()
        return f"line {line}: {type(before).__name__} -> {type(target.ops[index]).__name__}"
    if kind == "swap" and isinstance(target, ast.BoolOp):
        target.op = ast.Or() if isinstance(target.op, ast.And) else ast.And()
        return f"line {line}: and/or swapped"
    if kind == "drop-not" and isinstance(target, ast.UnaryOp):
        _Replace(target, target.operand).visit(tree)
        return f"line {line}: `not` dropped"
    if kind == "plus-one" and isinstance(target, ast.Constant) and isinstance(target.value, int):
        before_value = target.value
        target.value = before_value + 1
        return f"line {line}: {before_value} -> {before_value + 1}"
    raise ValueError(fault)


def domain_mutants() -> Iterator[Mutant]:
    for path in sorted((ROOT / "app/domain").glob("*.py")):
        relative = path.relative_to(ROOT)
        if relative == SPEC_FILE or path.name == "__init__.py":
            continue
        source = path.read_text()
        count = sum(1 for _ in _sites(ast.parse(source)))
        for number in range(count):
            tree = ast.parse(source)  # a fresh tree per mutant; the n-th site of the same walk
            node, fault = next(site for i, site in enumerate(_sites(tree)) if i == number)
            description = _apply(tree, node, fault)
            yield Mutant(relative, f"{relative}: {description}", ast.unparse(tree) + "\n")


def _copy_checkout(destination: Path) -> None:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout.split(b"\0")
    for name in filter(None, listed):
        source = ROOT / name.decode()
        if source.is_file():
            target = destination / name.decode()
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def _run(copy: Path, mutant: Mutant, tests: list[str], env: dict[str, str], timeout: float) -> str:
    target = copy / mutant.path
    original = target.read_text()
    target.write_text(mutant.source)
    try:
        command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "--no-header", *tests]
        result = subprocess.run(command, cwd=copy, env=env, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return "timeout"
    finally:
        target.write_text(original)
    return {0: "survived", 1: "killed"}.get(result.returncode, f"error (pytest exit {result.returncode})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--target", choices=["spec", "domain"], default="spec")
    parser.add_argument("--tests", nargs="+", default=list(DEFAULT_TESTS), help="pytest paths run against each mutant")
    parser.add_argument("--sample", type=int, default=0, help="at most this many mutants, drawn at random")
    parser.add_argument("--seed", type=int, default=20261201)
    parser.add_argument("--postgres", action="store_true", help="keep EPA_TEST_POSTGRES_URL (both backends)")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per mutant")
    args = parser.parse_args(argv)

    mutants = list(spec_mutants() if args.target == "spec" else domain_mutants())
    if args.sample and args.sample < len(mutants):
        mutants = sorted(random.Random(args.seed).sample(mutants, args.sample), key=lambda m: m.description)
    env = dict(os.environ)
    if not args.postgres:
        env.pop("EPA_TEST_POSTGRES_URL", None)
    tests = [t for t in args.tests if (ROOT / t.split("::")[0]).exists()]
    print(f"{len(mutants)} mutants ({args.target}); tests: {' '.join(tests)}", flush=True)
    outcomes: dict[str, list[Mutant]] = {}
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="epa-mutants-") as directory:
        copy = Path(directory)
        _copy_checkout(copy)
        baseline = _run(copy, Mutant(SPEC_FILE, "none", (copy / SPEC_FILE).read_text()), tests, env, args.timeout)
        if baseline != "survived":
            print(f"the unmutated tests do not pass ({baseline}); fix them first", file=sys.stderr)
            return 2
        for number, mutant in enumerate(mutants, 1):
            outcome = _run(copy, mutant, tests, env, args.timeout)
            outcomes.setdefault(outcome, []).append(mutant)
            print(f"[{number}/{len(mutants)}] {outcome:9} {mutant.description}", flush=True)
    survivors = outcomes.get("survived", [])
    print(
        f"\n{len(mutants)} mutants in {time.monotonic() - started:.0f} s: "
        + ", ".join(f"{len(found)} {outcome}" for outcome, found in sorted(outcomes.items()))
    )
    for mutant in survivors:
        print(f"SURVIVOR {mutant.description}")
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
