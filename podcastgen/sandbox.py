"""The one sandbox every template runs in: episode templates, show notes and the episode page.

Any file an episode names may come from anyone (a pull request in CI), so a template can reach
nothing but the values it is given, read nothing but templates inside the project and the
built-in ones, and cost only so much:

- **Reach**: Jinja2's immutable sandbox (no attributes starting with `_`, no `__globals__`
  walks, no changing lists or mappings), undefined values are errors. A Python internal
  (`__name__`) written in the template is refused when it is compiled, so on branches never
  taken too.
- **Files**: `{% include %}`, `{% import %}` and `{% extends %}` name a file relative to the
  template that names it, or a built-in template by its bare name. The real path (symlinks
  followed) must be inside the project (unless the user passed `--allow-outside`) or the
  built-in folder; an absolute path is refused.
- **Cost** (`Limits`): the output's length; the characters one value may hold (a list or
  mapping counts everything inside it, a shared item once per reference); the characters
  produced in all; loop iterations, calls, filters and operators; calls inside calls
  (macros, recursive loops); field widths in `%`, `format` and `str.format`; repetition and
  big numbers; CPU time. Whatever can grow is checked before it is built.

Every refusal is a `SecurityError` raised inside the template's own code (or, at compile time,
`Refused`), so it carries the template's file and line like any other error (`describe()`).
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import re
import string
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping, Sized
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import (BaseLoader, StrictUndefined, TemplateNotFound, TemplateSyntaxError, nodes,
                    select_autoescape)
from jinja2.compiler import CodeGenerator
from jinja2.runtime import LoopContext, markup_join, str_join
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError
from jinja2.utils import Namespace
from jinja2.visitor import NodeTransformer

from .errors import ValidationError
from .filters import FILTERS, FilterError
from .source import check_path, read_bytes, real, show_path

BUILTIN = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class Limits:
    """What one render may cost; far above what a show's notes or an episode need."""

    output: int = 2_000_000  # characters of rendered text
    value: int = 2_000_000  # characters one value holds, everything inside it counted
    work: int = 20_000_000  # characters produced in all: values, output, captured blocks
    steps: int = 1_000_000  # loop iterations, calls, filters and operators
    depth: int = 50  # calls inside calls: macros, recursive loops, caller()
    width: int = 10_000  # a field width or precision in a format
    range: int = 100_000  # numbers in one range()
    exponent: int = 1000  # the right side of **
    int_bits: int = 100_000  # bits of a number built by * or **
    source: int = 1 << 20  # bytes of one template file (1 MiB)
    seconds: float = 20.0  # CPU time of the rendering thread
    cpu_clock: Callable[[], float] = time.thread_time


LIMITS = Limits()
NAMESPACE_SHARE = LIMITS.value // 8  # what a namespace may hold, and so counts for


class Meter:
    """One render's account: every step and every character produced is charged here."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.steps = self.work = self.depth = 0
        self.deadline = limits.cpu_clock() + limits.seconds
        self._weights: dict[int, tuple[Any, int]] = {}  # id -> (container, weight)

    def step(self) -> None:
        self.steps += 1
        if self.steps > self.limits.steps:
            refuse(f"more than {self.limits.steps:,} loop iterations, calls and operations")
        if self.limits.cpu_clock() > self.deadline:
            refuse(f"rendering took more than {self.limits.seconds:g} s of CPU time")

    def charge(self, characters: int) -> None:
        self.work += characters
        if self.work > self.limits.work:
            refuse(f"the template produced more than {self.limits.work:,} characters")

    def fits(self, size: int, what: str = "a value") -> None:
        """Refuse building something of `size` characters (checked before it is built)."""
        if size > self.limits.value:
            refuse(f"{what} of more than {self.limits.value:,} characters")

    def produced(self, value: Any) -> Any:
        """Account for a value an operation returned, and pass it on."""
        self.fits(self.weight(value))
        self.charge(len(value) if isinstance(value, (str, bytes, list, tuple, dict)) else 1)
        return value

    def weight(self, value: Any) -> int:
        """The characters `value` holds, counting each reference to a shared item."""
        scalar = _scalar_weight(value)
        if scalar is not None:
            return scalar
        if id(value) not in self._weights:
            self._weigh_containers(value)
        return self._weights[id(value)][1]

    def _weigh_containers(self, root: Any) -> None:
        """Post-order over containers not yet weighed (containers here never change, so a
        weight is kept for the render; a reference cycle counts once)."""
        stack, open_ = [(root, False)], set()
        while stack:
            node, children_done = stack.pop()
            if id(node) in self._weights:
                continue
            children = list(_children(node))
            if children_done:
                total = 1 + sum(self._known(child) for child in children)
                self._weights[id(node)] = (node, total)
                open_.discard(id(node))
                continue
            open_.add(id(node))
            stack.append((node, True))
            stack.extend((child, False) for child in children
                         if _scalar_weight(child) is None and id(child) not in open_)

    def _known(self, value: Any) -> int:
        scalar = _scalar_weight(value)
        if scalar is not None:
            return scalar
        return self._weights.get(id(value), (None, 1))[1]


def _scalar_weight(value: Any) -> int | None:
    """The weight of anything that is not a container (None for containers)."""
    if isinstance(value, (str, bytes)):
        return len(value)
    if isinstance(value, bool) or value is None:
        return 1
    if isinstance(value, int):
        return value.bit_length() // 3 + 1
    if isinstance(value, Namespace):
        return NAMESPACE_SHARE
    if isinstance(value, range):
        return len(value) * 7  # ranges come only from _range(), so len() is small
    if isinstance(value, (list, tuple, set, frozenset, Mapping)):
        return None
    return 24  # floats, dates, generators, macros, loop objects


def _children(value: Any) -> Iterable[Any]:
    if isinstance(value, Mapping):
        for key in value:
            yield key
            yield value[key]
    else:
        yield from value


_meter: contextvars.ContextVar[Meter] = contextvars.ContextVar("podcastgen_template_meter")


def refuse(message: str) -> None:
    raise SecurityError(message)


# ---- what may be built: pre-checks for operations that can grow their input ----

_PRINTF = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+)?)?[hlL]?[a-zA-Z%]")


def printf_widths(text: str, limits: Limits) -> int:
    """The widths and precisions of a %-format, added up; refused when one is taken from
    the arguments (`*`) or is over the limit."""
    return sum(_width(number, limits, "*") for match in _PRINTF.finditer(text)
               for number in match.groups() if number)


def format_widths(text: str, limits: Limits) -> int:
    """The same for `str.format`: each field's spec must be written out, not `{:{w}}`."""
    try:
        specs = [spec for _, _, spec, _ in string.Formatter().parse(text) if spec]
    except ValueError:
        return 0  # the call itself reports the malformed format
    if any("{" in spec for spec in specs):
        refuse("a width taken from the arguments ({...}) in a format")
    return sum(_width(n, limits) for spec in specs for n in re.findall(r"\d+", spec))


def _width(number: str, limits: Limits, star: str = "") -> int:
    if number == star:
        refuse("a width taken from the arguments (*) in a format")
    if int(number) > limits.width:
        refuse(f"a format width of {int(number):,} (at most {limits.width:,})")
    return int(number)


def _whole(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _replaced(meter: Meter, s: Any, old: Any = "", new: Any = "", count: Any = -1) -> int:
    if not isinstance(s, bytes):  # the filter replaces in the value as text
        s, old, new = str(s), str(old), str(new)
    found = s.count(old) if old else len(s) + 1
    if isinstance(count, int) and count >= 0:
        found = min(found, count)
    return len(s) + found * max(len(new) - len(old), 0)


def _joined(meter: Meter, sep: Any, items: Any = (), *_: Any) -> int:
    return len(sep) * len(items) + meter.weight(items) if isinstance(items, Sized) else 0


def _padded(meter: Meter, s: Any, width: Any = 0, *_: Any) -> int:
    return max(meter.weight(s), _whole(width))


def _tabs(meter: Meter, s: Any, tabsize: Any = 8) -> int:
    tab = b"\t" if isinstance(s, bytes) else "\t"
    return len(s) + s.count(tab) * max(_whole(tabsize), 0)


def _translated(meter: Meter, s: Any, table: Any = None, *_: Any) -> int:
    longest = max((meter.weight(v) for v in table.values()), default=1) \
        if isinstance(table, Mapping) else 1
    return len(s) * max(longest, 1)


def _to_bytes(meter: Meter, number: Any, length: Any = 1, *_: Any, **__: Any) -> int:
    return _whole(length)


# str and bytes methods (and int.to_bytes) whose result can be far larger than their input:
# method name -> the size of what it would build, from (the object, *arguments)
METHOD_SIZES: dict[str, Callable[..., int]] = {
    "center": _padded, "ljust": _padded, "rjust": _padded, "zfill": _padded,
    "expandtabs": _tabs, "replace": _replaced, "join": _joined, "translate": _translated,
    "to_bytes": _to_bytes,
}


def _indented(meter: Meter, s: Any, width: Any = 4, *_: Any) -> int:
    text = str(s) if isinstance(s, str) else ""
    per_line = len(width) if isinstance(width, str) else _whole(width)
    return len(text) + (text.count("\n") + 1) * per_line


def _wrapped(meter: Meter, s: Any, width: Any = 79, breaks: Any = True,
             wrapstring: Any = None, *_: Any) -> int:
    return meter.weight(s) * (1 + len(wrapstring if isinstance(wrapstring, str) else "\n"))


def _formatted(meter: Meter, value: Any, *args: Any, **kwargs: Any) -> int:
    text = value if isinstance(value, str) else ""
    return (len(text) + printf_widths(text, meter.limits) + meter.weight(list(args))
            + meter.weight(kwargs))


def _summed(meter: Meter, items: Any, attribute: Any = None, start: Any = 0) -> int:
    if not isinstance(start, (int, float)):
        refuse("sum adds numbers; join lists or text with the join filter")
    return 0


def _counted(meter: Meter, value: Any, count: Any = 0, *_: Any) -> int:
    return _whole(count)


# filters whose result can be far larger than their input: name -> size of what it builds,
# from the filter's own arguments (after the environment or context Jinja passes first)
FILTER_SIZES: dict[str, Callable[..., int]] = {
    "center": _padded, "indent": _indented, "wordwrap": _wrapped, "format": _formatted,
    "replace": _replaced, "batch": _counted, "slice": _counted, "sum": _summed,
    "join": lambda meter, items, sep="", *_: _joined(meter, sep, items),
}


def _estimate(sizes: Callable[..., int], meter: Meter, *args: Any, **kwargs: Any) -> int:
    try:
        return sizes(meter, *args, **kwargs)
    except (TypeError, ValueError, AttributeError):
        return 0  # arguments the call itself will refuse


def check_binop(meter: Meter, operator: str, left: Any, right: Any) -> None:
    """Refuse `*`, `**`, `%` and `+` whose result would be too large, before computing it."""
    limits = meter.limits
    if operator == "**" and isinstance(left, int) and isinstance(right, int):
        if abs(right) > limits.exponent:
            refuse(f"the exponent {right} is too large (at most {limits.exponent})")
        if left.bit_length() * abs(right) > limits.int_bits:
            refuse(f"a number of more than {limits.int_bits:,} bits")
    elif operator == "*":
        _check_product(meter, left, right)
    elif operator == "%" and isinstance(left, str):
        meter.fits(len(left) + printf_widths(left, limits) + meter.weight(right),
                   "a formatted text")
    elif operator == "+" and not isinstance(left, (int, float)):
        meter.fits(meter.weight(left) + meter.weight(right))


def _check_product(meter: Meter, left: Any, right: Any) -> None:
    if isinstance(left, int) and isinstance(right, int):
        if left.bit_length() + right.bit_length() > meter.limits.int_bits:
            refuse(f"a number of more than {meter.limits.int_bits:,} bits")
        return
    for seq, times in ((left, right), (right, left)):
        if isinstance(times, int) and not isinstance(seq, (int, float)):
            meter.fits(meter.weight(seq) * max(times, 0), "a repeated value")


# ---- the environment ----


class Refused(TemplateSyntaxError):
    """Refused while compiling, so on every path through the template, taken or not."""


class _Metered(NodeTransformer):
    """Rewrites a template's syntax tree so the meter sees what the sandbox does not:
    each loop iteration (and the fixed text its body writes), `~` joins, and the lists,
    tuples and mappings a template writes out. A Python internal written out (`x.__class__`,
    `x['__init__']`) is refused here, before the template runs."""

    def __init__(self, name: str | None, filename: str | None):
        self.name, self.filename = name, filename

    def visit_Getattr(self, node: nodes.Getattr) -> nodes.Node:
        self._private(node.attr, node.lineno)
        return self.generic_visit(node)

    def visit_Getitem(self, node: nodes.Getitem) -> nodes.Node:
        if isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
            self._private(node.arg.value, node.lineno)
        return self.generic_visit(node)

    def _private(self, attr: str, lineno: int) -> None:
        if attr.startswith("__"):  # never data; other _names are refused as they are used
            raise Refused(f"access to attribute '{attr}' is unsafe (a Python internal)",
                          lineno, self.name, self.filename)

    def visit_For(self, node: nodes.For) -> nodes.Node:
        self.generic_visit(node)
        text = sum(len(d.data) for d in _own_text(node.body))
        node.iter = _hook("metered_iter", [node.iter, nodes.Const(text)], node.lineno)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        self.generic_visit(node)
        return _hook("metered_concat", [nodes.ContextReference(), *node.nodes], node.lineno)

    def visit_List(self, node: nodes.Node) -> nodes.Node:
        self.generic_visit(node)
        return _hook("metered_value", [node], node.lineno)

    visit_Dict = visit_List

    def visit_Tuple(self, node: nodes.Tuple) -> nodes.Node:
        self.generic_visit(node)
        return node if node.ctx != "load" else _hook("metered_value", [node], node.lineno)


def _hook(name: str, args: list[nodes.Expr], lineno: int) -> nodes.Call:
    call = nodes.Call(nodes.EnvironmentAttribute(name), args, [], None, None)
    return call.set_lineno(lineno)


def _own_text(body: list[nodes.Node]) -> Iterator[nodes.TemplateData]:
    """The fixed text a loop body writes on each pass (not that of loops inside it)."""
    for node in body:
        if isinstance(node, nodes.TemplateData):
            yield node
        elif not isinstance(node, (nodes.For, nodes.Macro, nodes.CallBlock)):
            yield from _own_text(list(node.iter_child_nodes()))


class _MeteredCodeGenerator(CodeGenerator):
    def visit_Template(self, node: nodes.Template, frame: Any = None) -> None:
        _Metered(self.name, self.filename).visit(node)
        super().visit_Template(node, frame)


class _Namespace(Namespace):
    """`namespace()`: the one object a template may change, so each value it holds counts
    as NAMESPACE_SHARE wherever the namespace is referenced, and may be no larger."""

    def __init__(*args: Any, **kwargs: Any) -> None:
        for value in dict(*args[1:], **kwargs).values():
            _check_share(value)
        Namespace.__init__(*args, **kwargs)

    def __setitem__(self, name: str, value: Any) -> None:
        _check_share(value)
        super().__setitem__(name, value)


def _check_share(value: Any) -> None:
    if _meter.get().weight(value) > NAMESPACE_SHARE:
        refuse(f"a namespace value of more than {NAMESPACE_SHARE:,} characters")


def _range(*args: int) -> range:
    numbers, most = range(*args), _meter.get().limits.range
    size = -((numbers.start - numbers.stop) // numbers.step)  # len() fails past 2**63
    if size > most:
        refuse(f"a range of {size:,} numbers (at most {most:,})")
    return numbers


class Sandbox(ImmutableSandboxedEnvironment):
    """Jinja2's immutable sandbox with the meter wired into every operation that can cost."""

    intercepted_binops = frozenset({"*", "**", "%", "+"})
    code_generator_class = _MeteredCodeGenerator

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        meter = _meter.get()
        meter.step()
        check_binop(meter, operator, left, right)
        return meter.produced(super().call_binop(context, operator, left, right))

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        meter = _meter.get()
        meter.step()
        if isinstance(__obj, LoopContext) and args:  # a recursive loop's next level
            args = (__self.metered_iter(args[0], 0), *args[1:])
        owner, name = getattr(__obj, "__self__", None), getattr(__obj, "__name__", "")
        if isinstance(owner, (str, bytes, int)) and name in METHOD_SIZES:
            if name == "join" and args and not isinstance(args[0], Sized):
                args = (list(args[0]), *args[1:])  # measured first; metered as it runs
            meter.fits(_estimate(METHOD_SIZES[name], meter, owner, *args, **kwargs),
                       f"{name}() would build a value")
        meter.depth += 1
        try:
            if meter.depth > meter.limits.depth:
                refuse(f"calls nested more than {meter.limits.depth} deep (a macro or "
                       "recursive loop calling itself?)")
            result = super().call(__context, __obj, *args, **kwargs)
        finally:
            meter.depth -= 1
        return meter.produced(result)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        text = value.__self__

        def checked(*args: Any, **kwargs: Any) -> str:
            meter = _meter.get()
            meter.fits(len(text) + format_widths(text, meter.limits) + meter.weight(list(args))
                       + meter.weight(kwargs), "a formatted text")
            return wrapped(*args, **kwargs)

        return functools.update_wrapper(checked, value)

    def join_path(self, template: str, parent: str) -> str:
        return _join_path(template, parent)

    def metered_iter(self, iterable: Any, text: int) -> Iterator[Any]:
        meter = _meter.get()
        for item in iterable:
            meter.step()
            meter.charge(text + 1)
            yield item

    def metered_concat(self, context: Any, *parts: Any) -> str:
        meter = _meter.get()
        meter.fits(sum(meter.weight(p) for p in parts), "a joined text")
        return (markup_join if context.eval_ctx.autoescape else str_join)(parts)

    def metered_value(self, value: Any) -> Any:
        _meter.get().fits(_meter.get().weight(value))
        return value


def _finalize(value: Any) -> Any:
    """Every `{{ expression }}` on its way into the output (or a captured block)."""
    _meter.get().charge(_meter.get().weight(value))
    return value


def _metered_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    skip = 1 if getattr(func, "jinja_pass_arg", None) else 0  # the env/context Jinja passes

    @functools.wraps(func)
    def run(*args: Any, **kwargs: Any) -> Any:
        meter = _meter.get()
        meter.step()
        if name in FILTER_SIZES:
            args = _materialized(name, args, skip)
            meter.fits(_estimate(FILTER_SIZES[name], meter, *args[skip:], **kwargs),
                       f"the {name} filter would build a value")
        return meter.produced(func(*args, **kwargs))

    return run


def _materialized(name: str, args: tuple[Any, ...], skip: int) -> tuple[Any, ...]:
    """`join` measures its items first, so a generator becomes a list (metered as it runs)."""
    if name == "join" and len(args) > skip and not isinstance(args[skip], Sized):
        return (*args[:skip], list(args[skip]), *args[skip + 1:])
    return args


@functools.cache
def environment() -> Sandbox:
    """The one environment every template is rendered with (built once). HTML templates
    (`*.html.j2`) autoescape; others (Markdown, YAML) do not."""
    env = Sandbox(loader=_ConfinedLoader(), undefined=StrictUndefined,
                  autoescape=select_autoescape(enabled_extensions=("html.j2", "html"),
                                               default_for_string=False),
                  trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
                  cache_size=0, optimized=False, finalize=_finalize)
    env.globals.update(range=_range, namespace=_Namespace)
    del env.globals["lipsum"]  # text of any length on request
    env.filters.update(FILTERS)
    env.filters = {name: _metered_filter(name, f) for name, f in env.filters.items()}
    return env


# ---- files: where templates may come from ----


@dataclass
class Scope:
    """Where templates may come from in one rendering task, and every file it read."""

    root: Path
    allow_outside: bool = False
    limits: Limits = LIMITS
    loaded: list[Path] = field(default_factory=list)
    _environments: dict[int, Any] = field(default_factory=dict)

    def refuses(self, path: Path) -> str | None:
        target = real(path)
        if target.is_relative_to(real(BUILTIN)):
            return None
        return check_path(target, self.root, self.allow_outside)

    def environment(self, base: Any) -> Any:
        """`base` with a template cache of its own: each file is read and compiled once per
        scope, and never shared with another project's scope."""
        key = id(base)
        if key not in self._environments:
            self._environments[key] = base.overlay(cache_size=100)
        return self._environments[key]


_scope: contextvars.ContextVar[Scope] = contextvars.ContextVar("podcastgen_template_scope")


class _ConfinedLoader(BaseLoader):
    def get_source(self, env: Any, template: str) -> tuple[str, str, Callable[[], bool]]:
        path, scope = Path(template), _scope.get()
        refused = scope.refuses(path)
        if refused:
            raise TemplateNotFound(f"{show_path(path)}: {refused}")
        try:  # a regular file only: a FIFO would block the render forever
            data = read_bytes(real(path), show_path(path), "template", scope.limits.source)
        except ValidationError as exc:
            raise TemplateNotFound(f"{show_path(path)}: {exc.problems[0].message}") from None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise TemplateNotFound(f"{show_path(path)}: not UTF-8 text") from None
        scope.loaded.append(path)
        return text, str(path), lambda: True  # unchanged for the scope's lifetime


def _join_path(template: str, parent: str) -> str:
    """A name in `{% include %}` etc.: relative to the including template, else built-in."""
    if Path(template).is_absolute():
        raise TemplateNotFound(f"{template}: an absolute path; name the file relative to "
                               "the template")
    beside = real(Path(parent).parent / template)
    builtin = BUILTIN / template
    if not beside.exists() and "/" not in template and builtin.is_file():
        return str(builtin)
    return str(beside)


@contextlib.contextmanager
def scope(root: Path, allow_outside: bool = False, limits: Limits = LIMITS) -> Iterator[Scope]:
    """Render templates of the project at `root` inside this block."""
    current = Scope(root, allow_outside, limits)
    token = _scope.set(current)
    try:
        yield current
    finally:
        _scope.reset(token)


def render(base: Any, path: Path, context: Mapping[str, Any]) -> str:
    """Render the template file at `path` inside the current scope, within its limits."""
    current = _scope.get()
    meter = Meter(current.limits)
    token = _meter.set(meter)
    try:
        template = current.environment(base).get_template(str(path.resolve()))
        stream = template.generate(context)
        parts, size = [], 0
        for chunk in stream:
            size += len(chunk)
            if size > current.limits.output:  # raised at the template line writing it
                stream.throw(SecurityError(f"the output is longer than "
                                           f"{current.limits.output:,} characters"))
            parts.append(chunk)
        return "".join(parts)
    finally:
        _meter.reset(token)


# ---- errors: where in which template, and what ----

REFUSED = "refused by the sandbox: "


def where(exc: BaseException, main: Path) -> tuple[Path, int]:
    """The innermost template frame of `exc` (Jinja rewrites frames to template lines)."""
    names = {str(p) for p in _loaded()} | {str(main.resolve())}
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename in names]
    if not frames:
        return main, 1
    return Path(frames[-1].filename), frames[-1].lineno or 1


def _loaded() -> list[Path]:
    current = _scope.get(None)
    return current.loaded if current else []


def describe(exc: BaseException, main: Path) -> tuple[Path, int, str]:
    """The template file and line where rendering `main` failed, and what went wrong."""
    from jinja2 import TemplateError

    if isinstance(exc, TemplateSyntaxError):
        kind = REFUSED if isinstance(exc, Refused) else "syntax error: "
        return Path(exc.filename or main), exc.lineno, kind + str(exc.message)
    file, line = where(exc, main)
    message = str(getattr(exc, "message", None) or exc).rstrip(".")
    refused = refusal(exc)
    if refused:
        message = refused
    elif isinstance(exc, TemplateNotFound):
        message = f"cannot include {message}"
    elif not isinstance(exc, (TemplateError, FilterError)):
        message = f"{type(exc).__name__}: {message}"
    return file, line, message


def refusal(exc: BaseException) -> str | None:
    """The message for an exception that means the sandbox stopped the template."""
    if isinstance(exc, (SecurityError, Refused)):
        return REFUSED + str(getattr(exc, "message", None) or exc).rstrip(".")
    if isinstance(exc, RecursionError):
        return REFUSED + "templates or macros nested too deeply (one including, importing, " \
                         "extending or calling itself?)"
    if isinstance(exc, MemoryError):
        return REFUSED + "the template ran out of memory"
    return None
