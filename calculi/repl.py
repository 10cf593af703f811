"""``python -m calculi.repl NAME``: an interactive session with a calculus.

On a terminal it uses prompt_toolkit (history kept across runs, multi-line input, completion of
commands); from a pipe it reads and answers line by line, so scripts and tests can drive it.
A line ending in ``\\`` continues on the next line. Errors print their message and the session
goes on; Ctrl-C interrupts a long evaluation without leaving it.
"""

from __future__ import annotations

import os
import sys
from argparse import ArgumentTypeError
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, TextIO

from calculi.core.errors import CalculusError, UsageError
from calculi.core.files import positive_int, read_source
from calculi.core.registry import CALCULI, Command, Session, calculus_names, open_session
from calculi.core.syntax import Source


class Repl:
    """Dispatches input lines to the common commands and the calculus's session."""

    def __init__(self, session: Session[Any], out: TextIO = sys.stdout, *, strict: bool = False) -> None:
        self.session = session
        self.out = out
        self.strict = strict
        """Let an internal error (a bug of ours, not a ``CalculusError``) propagate: for tests."""
        self.errors: list[CalculusError] = []
        """The errors answered so far, newest last."""
        self.done = False
        self.counter = 0
        common = [
            Command("help", ":help [COMMAND]", "list the commands, or explain one", self._help),
            Command("quit", ":quit", "leave the REPL", self._quit),
            Command("load", ":load FILE", "run every input of a file", self._load),
            Command("type", ":type TERM", "the type of a term", self._type),
            Command("step", ":step [TERM]", "start stepping TERM, or take the next step",
                    self._step),
            Command("trace", ":trace TERM", "every step to the result, with rule names",
                    self._trace),
            Command("set", ":set NAME VALUE", "change a setting (fuel, ...)", self._set),
        ]
        self.commands: dict[str, Command] = {c.name: c for c in common}
        self.commands.update(session.commands())

    # -- dispatch ---------------------------------------------------------------------------

    def handle(self, text: str) -> None:
        """Answer one input; never raises for bad input."""
        text = text.strip()
        if not text:
            return
        try:
            for chunk in self._answer(text):
                print(chunk, file=self.out, flush=True)
        except CalculusError as err:
            self.errors.append(err)
            print(err.render(), file=self.out, flush=True)
        except KeyboardInterrupt:
            print("interrupted", file=self.out, flush=True)
        except RecursionError:
            print("error: input nested too deeply", file=self.out, flush=True)
        except Exception as err:  # a bug of ours: say so briefly, and keep the session alive
            if self.strict:
                raise
            print(f"internal error: {type(err).__name__}: {err}", file=self.out, flush=True)

    def _answer(self, text: str) -> Iterator[str]:
        if not text.startswith(":"):
            self.counter += 1
            yield self.session.input(Source(text, "<input>"))
            return
        name, _, args = text[1:].partition(" ")
        command = self.commands.get(name) or self._unique_prefix(name)
        result = command.run(args.strip())
        yield from [result] if isinstance(result, str) else result

    def _unique_prefix(self, name: str) -> Command:
        matches = [c for n, c in self.commands.items() if n.startswith(name)]
        if len(matches) == 1:
            return matches[0]
        raise UsageError(f"unknown command ':{name}' (try :help)")

    # -- common commands --------------------------------------------------------------------

    def _help(self, args: str) -> str:
        if args:
            command = self.commands.get(args.lstrip(":")) or self._unique_prefix(args.lstrip(":"))
            return f"{command.usage}\n  {command.help}"
        width = max(len(c.usage) for c in self.commands.values())
        rows = [f"  {c.usage:<{width}}  {c.help}" for c in self.commands.values()]
        header = f"{self.session.name}: {CALCULI[self.session.name][1]}"
        return "\n".join([header, "Type a term to evaluate it. Commands:", *rows])

    def _quit(self, _: str) -> str:
        self.done = True
        return ""

    def _load(self, args: str) -> Iterator[str]:
        if not args:
            raise UsageError("usage: :load FILE")
        yield from self.session.load(read_source(args))

    def _type(self, args: str) -> str:
        return self.session.type_of(self.session.parse(_required(args, ":type TERM")))

    def _step(self, args: str) -> str:
        return self.session.step_once(Source(args, "<input>") if args else None)

    def _trace(self, args: str) -> Iterator[str]:
        return self.session.trace(_required(args, ":trace TERM"))

    def _set(self, args: str) -> str:
        name, _, value = args.partition(" ")
        value = value.strip()
        if name == "fuel":
            try:
                fuel = positive_int(value)
            except ArgumentTypeError:
                raise UsageError("usage: :set fuel N (a positive number of steps)") from None
            self.session.fuel_limit = fuel
            return f"fuel = {fuel:,} steps"
        extra: Mapping[str, Callable[[str], str]] = self.session.settings()
        if name in extra:
            return extra[name](value)
        known = ", ".join(["fuel", *extra])
        raise UsageError(f"unknown setting {name!r}; settings: {known}")

    def completions(self, text: str) -> list[str]:
        """What may complete the last word of ``text``: a command after a leading ``:``, a path
        after ``:load``, else a name in scope (the session's definitions, the prelude's)."""
        if text.startswith(":load "):
            return _paths(text[len(":load "):].lstrip())
        word = _last_word(text)
        if text.startswith(":") and " " not in text:
            return sorted(":" + name for name in self.commands if (":" + name).startswith(text))
        return sorted(n for n in set(self.session.names()) if n.startswith(word) and n != word)


def _last_word(text: str) -> str:
    start = len(text)
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] in "_'"):
        start -= 1
    return text[start:]


def _paths(prefix: str) -> list[str]:
    """The files and folders whose path starts with ``prefix`` (folders end in ``/``)."""
    folder, _, stem = prefix.rpartition("/")
    base = Path(folder or ".").expanduser() if folder or not prefix.startswith("/") else Path("/")
    try:
        entries = sorted(base.iterdir())
    except (OSError, RuntimeError):
        return []
    head = folder + "/" if folder else ""
    return [head + e.name + ("/" if e.is_dir() else "") for e in entries
            if e.name.startswith(stem) and (stem.startswith(".") or not e.name.startswith("."))]


def _required(args: str, usage: str) -> Source:
    if not args:
        raise UsageError(f"usage: {usage}")
    return Source(args, "<input>")


def logical_lines(lines: Iterable[str]) -> Iterator[str]:
    """Join physical lines that end in a backslash into one input."""
    pending: list[str] = []
    for raw in lines:
        line = raw.rstrip("\n")
        if line.endswith("\\"):
            pending.append(line[:-1])
            continue
        pending.append(line)
        yield "\n".join(pending)
        pending = []
    if pending:
        yield "\n".join(pending)


def run_piped(repl: Repl, stream: TextIO) -> None:
    for text in logical_lines(stream):
        repl.handle(text)
        if repl.done:
            break


def run_terminal(repl: Repl) -> None:  # pragma: no cover - needs a terminal
    from prompt_toolkit import PromptSession
    from prompt_toolkit.auto_suggest import AutoSuggestFromHistory
    from prompt_toolkit.completion import Completer, Completion
    from prompt_toolkit.history import FileHistory
    from prompt_toolkit.key_binding import KeyBindings

    history_dir = Path(os.environ.get("XDG_STATE_HOME", Path.home() / ".local" / "state"))
    history_dir = history_dir / "calculi"
    history_dir.mkdir(parents=True, exist_ok=True)
    bindings = KeyBindings()

    @bindings.add("enter")
    def _(event: object) -> None:
        buffer = event.current_buffer  # type: ignore[attr-defined]
        if buffer.text.endswith("\\") or repl.session.incomplete(buffer.text):
            buffer.insert_text("\n")
        else:
            buffer.validate_and_handle()

    session: PromptSession[str] = PromptSession(
        history=FileHistory(str(history_dir / f"{repl.session.name}.history")),
        auto_suggest=AutoSuggestFromHistory(),
        completer=_ReplCompleter(repl, Completer, Completion),
        multiline=True,
        key_bindings=bindings,
        prompt_continuation=lambda width, *_: "." * (width - 1) + " ",
    )
    print(f"{repl.session.name} — {CALCULI[repl.session.name][1]}. :help for commands, "
          ":quit to leave; end a line with \\ to continue it.")
    while not repl.done:
        try:
            text = session.prompt(repl.session.prompt)
        except KeyboardInterrupt:
            continue
        except EOFError:
            break
        repl.handle(text.replace("\\\n", "\n"))


def _ReplCompleter(repl: Repl, base: Any, completion: Any) -> Any:  # pragma: no cover - terminal
    """A prompt_toolkit completer over ``Repl.completions`` (its classes passed in: lazy import)."""

    class ReplCompleter(base):  # type: ignore[misc]
        def get_completions(self, document: Any, event: Any) -> Iterator[Any]:
            text = document.text_before_cursor
            if text.startswith(":load "):
                word = text[len(":load "):].lstrip()
            elif text.startswith(":") and " " not in text:
                word = text
            else:
                word = _last_word(text)
            for option in repl.completions(text):
                yield completion(option, start_position=-len(word))

    return ReplCompleter()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] not in CALCULI:
        if args:
            print(f"unknown calculus {args[0]!r}", file=sys.stderr)
        print("usage: python -m calculi.repl NAME\n\navailable calculi:", file=sys.stderr)
        for name in calculus_names():
            print(f"  {name:<16} {CALCULI[name][1]}", file=sys.stderr)
        return 2
    repl = Repl(open_session(args[0]))
    try:
        if sys.stdin.isatty() and sys.stdout.isatty():
            run_terminal(repl)
        else:
            run_piped(repl, sys.stdin)
    except BrokenPipeError:  # the reader went away (``| head``): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


if __name__ == "__main__":
    sys.exit(main())
