#!/usr/bin/env python3
"""Runs the Swift tests, and stops them when one test runs far longer than any should.

    tools/test-watchdog.py [--limit SECONDS] -- swift test --skip-build --no-parallel

A test whose threads are blocked outside Swift concurrency (a lock, a process waited for, a
blocking read) is not ended by its `.timeLimit`: CI would hang until its own timeout, saying
nothing of where. This runs the command with Swift Testing's event stream
(`--event-stream-output-path`, added to the command), follows which tests have started and not
ended, and when one has run for longer than the limit (or, once the tests run, none has started
or ended for that long):

- prints the test's id, name and file:line;
- prints the stacks of every thread of the test process (`gdb -batch -p`, when gdb is
  installed and allowed to attach);
- kills the command and everything it started, and exits 124, as timeout(1) does.

When the test process ends while tests are running (a crash), it names them last, where CI's
tail of the log shows them.

Otherwise it exits with the command's status. The test output itself is not touched: it goes
to the terminal (or CI's log) as it would without the watchdog.
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

EXIT_STOPPED = 124


def main() -> int:
    parser = argparse.ArgumentParser(
        description="Runs the Swift tests; stops them, naming the test and printing its stacks, when one runs too long.")
    parser.add_argument("--limit", type=float, default=300,
                        help="seconds a test may run, and the run may go without a test starting or ending "
                             "(default 300: the longest test takes 80 s on a loaded 2-core machine)")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="the test command, after --")
    arguments = parser.parse_args()
    command = arguments.command[1:] if arguments.command[:1] == ["--"] else arguments.command
    if not command:
        parser.error("no test command: tools/test-watchdog.py -- swift test ...")

    with tempfile.TemporaryDirectory(prefix="test-watchdog.") as folder:
        events = os.path.join(folder, "events.jsonl")
        open(events, "w").close()
        child = subprocess.Popen(command + ["--event-stream-output-path", events, "--event-stream-version", "0"],
                                 start_new_session=True)
        # The command runs in a session of its own, which the terminal's ^C and CI's SIGTERM do
        # not reach: they stop it through this process.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
        # Unblocked, whatever the parent blocked (a process started from a Dispatch thread has
        # every signal blocked), or the handler never runs.
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
        try:
            return watch(child, events, arguments.limit)
        except KeyboardInterrupt:
            return 128 + signal.SIGINT
        finally:
            if child.poll() is None:
                stop(child)


def watch(child: subprocess.Popen, events: str, limit: float) -> int:
    tests = {}    # id -> the test's record: display name, source location
    running = {}  # id -> when it started (this process's monotonic clock)
    last = None   # the id of the last test started or ended
    # When the last event came; none before the test process starts (SwiftPM may wait for
    # another build's lock first, for as long as that build takes).
    last_event = None
    stream = Stream(events)
    while True:
        status = child.poll()
        for record in stream.records():
            payload = record.get("payload", {})
            if record.get("kind") == "test":
                tests[payload.get("id")] = payload
                continue
            if payload.get("kind") == "runStarted":
                last_event = time.monotonic()
            elif payload.get("kind") in ("testStarted", "testEnded"):
                test = last = payload.get("testID")
                last_event = time.monotonic()
                if payload["kind"] == "testEnded":
                    running.pop(test, None)
                elif tests.get(test, {}).get("kind") != "suite":
                    running[test] = last_event
        if status is not None:
            if running:
                # The test process died under them (a crash: its report scrolls far above, and CI
                # shows only the end of the log), so the end of the log names them.
                how = f"signal {-status}" if status < 0 else f"status {status}"
                say(f"the tests ended ({how}) while {len(running)} test(s) ran:")
                for test in running:
                    say(f"  {describe(test, tests)}")
            return status
        now = time.monotonic()
        overdue = [test for test, started in running.items() if now - started > limit]
        if overdue:
            say(f"{len(overdue)} test(s) ran for more than {limit:g} s, longer than any test should:")
            for test in overdue:
                say(f"  {describe(test, tests)}, started {now - running[test]:.0f} s ago")
        elif last_event is not None and now - last_event > limit:
            after = f"the last started or ended: {describe(last, tests)}" if last else "no test had started"
            say(f"no test started or ended for {limit:g} s ({after}).")
        else:
            time.sleep(0.2)
            continue
        print_stacks(child.pid, events)
        stop(child)
        say("the tests were stopped.")
        return EXIT_STOPPED


class Stream:
    """The event stream's complete lines, as they are written: the file is read on from where the
    last read ended, and from the start again if it was written anew (a second test process)."""

    def __init__(self, path: str):
        self.path = path
        self.offset = 0
        self.partial = b""

    def records(self):
        with open(self.path, "rb") as file:
            if os.fstat(file.fileno()).st_size < self.offset:
                self.offset, self.partial = 0, b""
            file.seek(self.offset)
            data = file.read()
        self.offset += len(data)
        lines = (self.partial + data).split(b"\n")
        self.partial = lines.pop()
        for line in lines:
            try:
                yield json.loads(line)
            except ValueError:
                continue  # not an event: nothing to follow in it


def describe(test: str, tests: dict) -> str:
    record = tests.get(test, {})
    location = record.get("sourceLocation", {})
    where = f" at Tests/{location['fileID']}:{location['line']}" if "fileID" in location else ""
    return f'{test} "{record.get("displayName", record.get("name", "?"))}"{where}'


def print_stacks(root: int, events: str) -> None:
    """The stacks of the processes that hold the event stream open: the test process, whatever
    its name, and not the servers its tests started."""
    holders = [pid for pid in descendants(root) if holds(pid, events)]
    if not holders:
        say("no process holds the event stream: no stacks.")
        return
    gdb = shutil.which("gdb")
    if gdb is None:
        say("gdb is not installed: no stacks (apt-get install gdb).")
        return
    for pid in holders:
        say(f"stacks of process {pid} ({command_line(pid)}):")
        try:
            result = subprocess.run([gdb, "-batch", "-p", str(pid), "-ex", "thread apply all bt"],
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)
            # Without gdb's complaints about the debug information: thousands of lines in a debug build.
            sys.stderr.writelines(line for line in result.stdout.splitlines(keepends=True)
                                  if not line.startswith("During symbol reading"))
        except subprocess.TimeoutExpired:
            say(f"gdb did not print process {pid}'s stacks within 120 s.")
        sys.stderr.flush()


def descendants(root: int) -> list:
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    parent = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue  # ended meanwhile
            children.setdefault(parent, []).append(int(entry))
    found, pending = [], [root]
    while pending:
        pid = pending.pop()
        found.append(pid)
        pending.extend(children.get(pid, []))
    return found


def holds(pid: int, path: str) -> bool:
    try:
        folder = f"/proc/{pid}/fd"
        return any(os.readlink(os.path.join(folder, fd)) == path for fd in os.listdir(folder))
    except OSError:
        return False


def command_line(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as file:
            return file.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return "?"


def stop(child: subprocess.Popen) -> None:
    """Kills the command and every process it started (its session's group)."""
    try:
        os.killpg(child.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    child.wait()


def say(message: str) -> None:
    print(f"test-watchdog: {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
