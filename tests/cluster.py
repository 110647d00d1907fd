"""Real `iben-bot run` processes on loopback, for fault tests and the load bench (`bench/load.py`).

Each instance gets its own TOML config (Slack HTTP mode on a free 127.0.0.1 port, the given
database, a fake Slack Web API), its own log file, and an environment without real tokens. The
cluster is an async context manager that always stops every process it started, even when the
test fails; an `atexit` hook and (on Linux) a parent-death signal cover harder exits.

    async with FakeSlackAPI() as fake, BotCluster(
        tmp_path, database_url=url, api_base_url=fake.base_url, channels={"qa": "CQA"}
    ) as cluster:
        a, b = cluster.add(), cluster.add()
        await cluster.start_all()
        ...  # POST signed requests to a.events_url
        a.kill()  # SIGKILL
        await a.wait_exit()
        await a.restart()
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import json
import math
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

import aiohttp

__all__ = [
    "DEFAULT_BOT_TOKEN",
    "DEFAULT_SIGNING_SECRET",
    "EVENTS_PATH",
    "HEALTH_PATH",
    "BotCluster",
    "BotInstance",
    "ClusterError",
    "clean_env",
    "free_port",
    "merge_sections",
    "to_toml",
]

HOST = "127.0.0.1"
EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
DEFAULT_SIGNING_SECRET = "cluster-signing-secret"
DEFAULT_BOT_TOKEN = "xoxb-cluster-fake"
PROJECT_ROOT = Path(__file__).resolve().parents[1]

# Never hand a real credential to a test bot: these prefixes and words are dropped from its env.
_SECRET_PREFIXES = ("SLACK_", "DISCORD_", "IBEN_BOT_")
_SECRET_WORDS = ("TOKEN", "SECRET", "PASSWORD", "API_KEY", "CREDENTIAL")

# Sets PR_SET_PDEATHSIG (Linux) so the bot dies with the process that started it, then runs the
# CLI in place (the process keeps its pid). `-c` rather than preexec_fn, which is unsafe with threads.
_BOOTSTRAP = """\
import os, signal, sys
if sys.platform.startswith("linux"):
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))
    except Exception:
        pass
    if os.getppid() != int(sys.argv[1]):
        sys.exit(1)
sys.argv = ["iben-bot", *sys.argv[2:]]
from adapters.cli import main
sys.exit(main(sys.argv[1:]))
"""

_LIVE: set[subprocess.Popen[bytes]] = set()


def _kill_leftovers() -> None:
    """Last resort at interpreter exit: SIGKILL whatever is still running."""
    for proc in list(_LIVE):
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)
        _LIVE.discard(proc)


atexit.register(_kill_leftovers)


class ClusterError(RuntimeError):
    """An instance did not start, stopped unexpectedly or could not be stopped; carries its log tail."""


def free_port(host: str = HOST) -> int:
    """A port nothing listens on right now (the OS picks it; tiny race until the bot binds it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def clean_env(
    base: Mapping[str, str] | None = None, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """`base` (default os.environ) without Slack/Discord/bot settings or anything token-like, plus `extra`."""
    source = os.environ if base is None else base
    env = {
        key: value
        for key, value in source.items()
        if not key.upper().startswith(_SECRET_PREFIXES) and not any(w in key.upper() for w in _SECRET_WORDS)
    }
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PROJECT_ROOT), env.get("PYTHONPATH", "")) if p)
    env.update(extra or {})
    return env


def merge_sections(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """Deep merge of TOML tables: `extra` wins, nested tables merge key by key."""
    out: dict[str, Any] = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge_sections(out[key], value)
        else:
            out[key] = dict(value) if isinstance(value, Mapping) else value
    return out


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"TOML cannot hold {value!r} here")
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # JSON string escapes are valid TOML basic-string escapes
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} {value!r} as a TOML value")


def _toml_key(key: str) -> str:
    bare = key.replace("-", "").replace("_", "").isalnum() and key.isascii()
    return key if bare else json.dumps(key)


def to_toml(sections: Mapping[str, Any]) -> str:
    """A small TOML writer for configs: tables (nested), strings, numbers, booleans and lists."""
    lines: list[str] = []

    def table(path: list[str], values: Mapping[str, Any]) -> None:
        scalars = {k: v for k, v in values.items() if not isinstance(v, Mapping)}
        tables = {k: v for k, v in values.items() if isinstance(v, Mapping)}
        if path and (scalars or not tables):
            lines.append("[" + ".".join(_toml_key(p) for p in path) + "]")
        lines.extend(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in scalars.items())
        if path and (scalars or not tables):
            lines.append("")
        for key, sub in tables.items():
            table([*path, key], sub)

    top_scalars = [k for k, v in sections.items() if not isinstance(v, Mapping)]
    if top_scalars:
        raise ValueError(f"top-level keys must be tables: {top_scalars}")
    table([], sections)
    return "\n".join(lines)


class BotInstance:
    """One `iben-bot run` process with a fixed config file, port and log file."""

    def __init__(
        self,
        name: str,
        *,
        config: Mapping[str, Any],
        port: int,
        workdir: Path,
        env: Mapping[str, str],
        host: str = HOST,
    ) -> None:
        self.name = name
        self.host = host
        self.port = port
        self.config: dict[str, Any] = dict(config)
        self.config_path = workdir / f"{name}.toml"
        self.log_path = workdir / f"{name}.log"
        self.workdir = workdir
        self.env = dict(env)
        self.starts = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self.config_path.write_text(to_toml(self.config), encoding="utf-8")

    # ------------------------------------------------------------------ addresses and state

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def events_url(self) -> str:
        """Where Slack posts commands, events and interactivity."""
        return self.base_url + EVENTS_PATH

    @property
    def health_url(self) -> str:
        return self.base_url + HEALTH_PATH

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def returncode(self) -> int | None:
        """The exit status once it has stopped (negative: killed by that signal); None while running."""
        return self._proc.poll() if self._proc is not None else None

    def command(self) -> list[str]:
        return [sys.executable, "-c", _BOOTSTRAP, str(os.getpid()), "run", "--config", str(self.config_path)]

    # ------------------------------------------------------------------ lifecycle

    async def start(self, *, timeout: float = 30.0) -> None:  # noqa: ASYNC109
        """Start the process and wait until it serves HTTP (see `wait_ready`)."""
        if self.running:
            raise ClusterError(f"{self.name} is already running (pid {self.pid})")
        self._close_log()
        self._log = self.log_path.open("ab")
        self.starts += 1
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        self._log.write(f"=== cluster: start #{self.starts} of {self.name} at {stamp} ===\n".encode())
        self._log.flush()
        self._proc = self._spawn(self._log)
        _LIVE.add(self._proc)
        try:
            await self.wait_ready(timeout=timeout)
        except BaseException:
            await self.terminate(timeout=5)
            raise

    def _spawn(self, log: IO[bytes]) -> subprocess.Popen[bytes]:
        """Fork and exec at once (fast, and from the thread that owns the process, which the
        parent-death signal follows), so not in a worker thread."""
        return subprocess.Popen(
            self.command(),
            cwd=self.workdir,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a Ctrl-C in the terminal reaches the runner, which stops us in order
        )

    async def wait_ready(self, *, timeout: float = 30.0) -> None:  # noqa: ASYNC109
        """Until GET /healthz answers 200 (404 counts too while no build serves /healthz yet)."""
        deadline = time.monotonic() + timeout
        last = "no answer yet"
        client_timeout = aiohttp.ClientTimeout(total=2)
        async with aiohttp.ClientSession(timeout=client_timeout) as http:
            while True:
                if not self.running:
                    raise ClusterError(
                        f"{self.name} exited with {self.returncode} while starting\n{self.log_tail()}"
                    )
                try:
                    async with http.get(self.health_url) as response:
                        await response.read()
                        if response.status in (200, 404):
                            return
                        last = f"GET {HEALTH_PATH} answered {response.status}"
                except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                    last = f"{exc.__class__.__name__}: {exc}"
                if time.monotonic() >= deadline:
                    raise ClusterError(
                        f"{self.name} (pid {self.pid}) not ready on {self.base_url} after {timeout:.0f}s "
                        f"({last})\n{self.log_tail()}"
                    )
                await asyncio.sleep(0.1)

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Send `sig` (default SIGKILL) and return at once; `wait_exit` waits for the end."""
        if self._proc is not None and self._proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self._proc.send_signal(sig)

    async def wait_exit(self, *, timeout: float = 10.0) -> int:  # noqa: ASYNC109
        """Wait until the process has stopped; returns its exit status. Raises ClusterError on timeout."""
        if self._proc is None:
            raise ClusterError(f"{self.name} was never started")
        deadline = time.monotonic() + timeout
        while (code := self._proc.poll()) is None:
            if time.monotonic() >= deadline:
                raise ClusterError(f"{self.name} (pid {self.pid}) still running after {timeout:.0f}s")
            await asyncio.sleep(0.02)
        _LIVE.discard(self._proc)
        return code

    async def terminate(self, *, timeout: float = 10.0) -> int | None:  # noqa: ASYNC109
        """SIGTERM, then SIGKILL after `timeout` seconds. Returns the exit status (None: never started)."""
        if self._proc is None:
            return None
        self.kill(signal.SIGTERM)
        try:
            return await self.wait_exit(timeout=timeout)
        except ClusterError:
            self.kill(signal.SIGKILL)
            return await self.wait_exit(timeout=5)
        finally:
            self._close_log()

    async def restart(
        self,
        *,
        sig: int | None = signal.SIGTERM,
        timeout: float = 30.0,  # noqa: ASYNC109
    ) -> None:
        """Stop it (with `sig`; None: expect it already stopped) and start it again, same config and port."""
        if self.running:
            if sig is None:
                raise ClusterError(f"{self.name} is still running; pass sig to stop it first")
            if sig == signal.SIGTERM:
                await self.terminate()
            else:
                self.kill(sig)
                await self.wait_exit()
        await self.start(timeout=timeout)

    def stop_now(self) -> None:
        """Synchronous SIGKILL and reap, for cleanup paths that cannot await."""
        if self._proc is not None:
            if self._proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    self._proc.kill()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self._proc.wait(timeout=5)
            if self._proc.poll() is not None:
                _LIVE.discard(self._proc)
        self._close_log()

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    # ------------------------------------------------------------------ diagnostics

    def log_tail(self, lines: int = 40) -> str:
        """The last `lines` lines of this instance's log, labelled, for failure messages."""
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return f"--- {self.name}: no log at {self.log_path} ---"
        tail = text.splitlines()[-lines:]
        return "\n".join([f"--- {self.name} (pid {self.pid}) {self.log_path} ---", *tail])

    def __repr__(self) -> str:
        state = "running" if self.running else f"stopped ({self.returncode})"
        return f"<BotInstance {self.name} {self.base_url} pid={self.pid} {state}>"


class BotCluster:
    """Bot processes sharing one database and one fake Slack API; stops them all on exit.

    `extra` sections are merged (deeply) into every instance's config; `add(extra=...)` merges
    more into one instance's.
    """

    def __init__(
        self,
        workdir: Path,
        *,
        database_url: str,
        api_base_url: str,
        signing_secret: str = DEFAULT_SIGNING_SECRET,
        bot_token: str = DEFAULT_BOT_TOKEN,
        channels: Mapping[str, str] | None = None,
        log_level: str = "INFO",
        extra: Mapping[str, Mapping[str, Any]] | None = None,
        env: Mapping[str, str] | None = None,
        name_prefix: str = "bot",
    ) -> None:
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.database_url = database_url
        self.api_base_url = api_base_url
        self.signing_secret = signing_secret
        self.bot_token = bot_token
        self.channels = dict(channels or {})
        self.log_level = log_level
        self.extra: dict[str, Any] = dict(extra or {})
        self.env = clean_env(extra=env)
        self.name_prefix = name_prefix
        self.instances: list[BotInstance] = []

    def config_for(self, name: str, port: int, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The config one instance runs with (as written to its TOML file)."""
        base: dict[str, Any] = {
            "bot": {"log_level": self.log_level},
            "database": {"url": self.database_url},
            "slack": {
                "enabled": True,
                "mode": "http",
                "bot_token": self.bot_token,
                "signing_secret": self.signing_secret,
                "host": HOST,
                "port": port,
                "api_base_url": self.api_base_url,
                "channels": dict(self.channels),
            },
            "cluster": {"instance_name": name},
        }
        return merge_sections(merge_sections(base, self.extra), extra or {})

    def add(
        self,
        name: str | None = None,
        *,
        port: int | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> BotInstance:
        """Declare an instance (config written now, not started): a free port unless given."""
        name = name or f"{self.name_prefix}-{len(self.instances) + 1}"
        if any(i.name == name for i in self.instances):
            raise ValueError(f"an instance named {name!r} already exists")
        port = port or free_port()
        instance = BotInstance(
            name, config=self.config_for(name, port, extra), port=port, workdir=self.workdir, env=self.env
        )
        self.instances.append(instance)
        return instance

    async def start(self, count: int, *, timeout: float = 30.0) -> list[BotInstance]:  # noqa: ASYNC109
        """Add `count` instances and start them together; returns them."""
        new = [self.add() for _ in range(count)]
        await asyncio.gather(*(i.start(timeout=timeout) for i in new))
        return new

    async def start_all(self, *, timeout: float = 30.0) -> None:  # noqa: ASYNC109
        """Start every declared instance that is not running, concurrently."""
        await asyncio.gather(*(i.start(timeout=timeout) for i in self.instances if not i.running))

    async def stop_all(self, *, timeout: float = 10.0) -> dict[str, int | None]:  # noqa: ASYNC109
        """SIGTERM everything, SIGKILL what has not stopped after `timeout`; exit status per name."""
        codes: dict[str, int | None] = {}
        try:
            results = await asyncio.gather(
                *(i.terminate(timeout=timeout) for i in self.instances), return_exceptions=True
            )
            for instance, result in zip(self.instances, results, strict=True):
                codes[instance.name] = result if isinstance(result, int) or result is None else None
        finally:
            for instance in self.instances:
                instance.stop_now()  # no-op for those already stopped
        return codes

    def __getitem__(self, index: int) -> BotInstance:
        return self.instances[index]

    def __len__(self) -> int:
        return len(self.instances)

    def log_tails(self, lines: int = 40) -> str:
        """Every instance's last log lines, for an assertion message."""
        return "\n".join(i.log_tail(lines) for i in self.instances)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            await self.stop_all()
        except BaseException:
            for instance in self.instances:
                instance.stop_now()
            raise
