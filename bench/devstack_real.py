#!/usr/bin/env python3
"""DevStack for real through stackdag: a checkout, a local.conf, `stackdag stack`, and day two.

    python3 bench/devstack_real.py CHECKOUT [--source DEVSTACK] [--repos DIR] [--user stack]
        [--stackdag PATH] [--services key,mysql] [--record-checkout PATH] [--keep] [--out FILE]

Not a test: it installs packages, starts MariaDB, Apache, memcached and keystone, and takes
minutes; CI has no DevStack checkout. It needs a machine prepared as DevStack wants one (a
`stack` user with NOPASSWD sudo, home /opt/stack) and a stackdag the stack user can run.
Run it as root (it runs everything as --user, and appends its table to --out) or as that
user (then --out must be writable by it). See bench/README.md.

What it does, as the stack user, with a fresh checkout of --source at CHECKOUT when there
is none (a checkout with stackdag state is cleaned first, so the first stack is one):
 1. writes CHECKOUT/local.conf: passwords, HOST_IP, only --services, every project from
    the local git repositories in --repos (GIT_BASE), and a [[post-config|$KEYSTONE_CONF]]
    section for step 7;
 2. `stackdag stack`, timed; then `openstack --os-cloud devstack-admin token issue`;
 3. the no-op: `stackdag stack` again, several times (the median);
 4. `kill -9` of keystone's uwsgi master (its pidfile's process group leader), then
    `stackdag stack`, timed, and what it ran;
 5. `stackdag unstack`: keystone must be down (no process of its group, no HTTP 200, no
    token); then `stackdag stack`, timed, and what it ran;
 6. an edit to the [[post-config|$KEYSTONE_CONF]] section: `stackdag stack`, timed, what
    it ran, and the value in keystone.conf;
 7. with --record-checkout, `stackdag stack --record` in that second, fresh checkout with
    DevStack's default services, again (it must run nothing), and `stackdag recorded`;
 8. `stackdag unstack --all`, and which of mysqld/mariadbd, apache2, uwsgi, memcached is
    still running; `stackdag stack` (the database, apache, memcached and the services come
    back), timed, and what it ran; `stackdag unstack --all` again (unless --keep).
"""

from __future__ import annotations

import argparse
import os
import pwd
import re
import signal
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

POST_CONFIG = "max_param_size"       # a keystone option no stage sets: the edit of step 6
RAN = re.compile(r"^\[\s*\d+/\d+\] (\S+) \.\.\. ok")


def local_conf(services: str, repos: Path, value: int, default_services: bool = False) -> str:
    """The bench's local.conf: what a plain run needs, and why, in its comments."""
    enable = "" if default_services else (
        "disable_all_services\n" + "".join(f"enable_service {s}\n" for s in services.split(",")))
    # NAME.git in repos is NAME_REPO (GIT_BASE would want repos/openstack/NAME.git)
    projects = "".join(f"{git.stem.upper().replace('-', '_')}_REPO=file://{git}\n"
                       for git in sorted(repos.glob("*.git")))
    return f"""\
[[local|localrc]]
# no prompts: stack.sh asks for these (stackdag makes the ones left out at random)
ADMIN_PASSWORD=secret
DATABASE_PASSWORD=$ADMIN_PASSWORD
RABBIT_PASSWORD=$ADMIN_PASSWORD
SERVICE_PASSWORD=$ADMIN_PASSWORD
# no network but the package registries: the services listen on loopback, and the
# projects come from local git repositories (one-commit snapshots)
HOST_IP=127.0.0.1
SERVICE_HOST=127.0.0.1
# no image to download (glance): stack.sh would fetch cirros from the network
DOWNLOAD_DEFAULT_IMAGES=False
IMAGE_URLS=
{projects}{enable}
[[post-config|$KEYSTONE_CONF]]
[DEFAULT]
{POST_CONFIG} = {value}
"""


class Bench:
    """Runs commands as the stack user (this process is that user) and times them."""

    def __init__(self, args):
        self.args = args
        self.stackdag = args.stackdag
        self.rows: list[tuple[str, str, str]] = []
        self.notes: list[str] = []
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "LC_"))}
        self.env["PATH"] = (f"{Path(self.stackdag).parent}:/usr/local/bin:/usr/bin:/bin:"
                            "/usr/local/sbin:/usr/sbin:/sbin")

    def run(self, *cmd: str, cwd: Path | None = None, check: bool = True):
        """Run ``cmd``; its seconds and output. A failure stops the bench with the output."""
        started = time.perf_counter()
        proc = subprocess.run(cmd, cwd=cwd, env=self.env, text=True, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        took = time.perf_counter() - started
        if check and proc.returncode:
            sys.exit(f"devstack_real: `{' '.join(cmd)}` failed ({proc.returncode}) in "
                     f"{cwd}:\n{proc.stdout[-4000:]}")
        return took, proc

    def stack(self, where: Path, *extra: str) -> tuple[float, list[str], str]:
        took, proc = self.run(self.stackdag, "stack", *extra, cwd=where)
        ran = [m.group(1) for m in map(RAN.match, proc.stdout.splitlines()) if m]
        return took, ran, proc.stdout

    def row(self, what: str, value: str, detail: str = "") -> None:
        self.rows.append((what, value, detail))
        print(f"devstack_real: {what}: {value} {detail}", file=sys.stderr, flush=True)

    def token(self) -> bool:
        _, proc = self.run("openstack", "--os-cloud", "devstack-admin", "token", "issue",
                           "-f", "value", "-c", "expires", check=False)
        return proc.returncode == 0

    def answers(self) -> str:
        """The token, and with glance the image list: "token ok[, image list ok]"."""
        said = f"token {'ok' if self.token() else 'FAILED'}"
        if "g-api" in self.args.services.split(","):
            _, proc = self.run("openstack", "--os-cloud", "devstack-admin", "image", "list",
                               check=False)
            said += f", image list {'ok' if proc.returncode == 0 else 'FAILED'}"
        return said


def http_status(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return str(answer.status)
    except urllib.error.HTTPError as err:
        return str(err.code)
    except (urllib.error.URLError, OSError) as err:
        return f"refused ({getattr(err, 'reason', err)})"


def alive(pid: int) -> bool:
    """True while process ``pid`` runs (a zombie does not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] not in "ZX"
    except (OSError, IndexError):
        return False


def group_alive(pgid: int) -> bool:
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[2] == str(pgid) and fields[0] not in ("Z", "X"):
            return True
    return False


def keystone_pgid(checkout: Path) -> int:
    pidfile = checkout / ".stack" / "pids" / "keystone.pid"
    if not pidfile.exists():
        sys.exit(f"devstack_real: no {pidfile}: keystone runs as a unit here (PID 1 is "
                 "systemd); this bench kills a process group")
    return int(pidfile.read_text().split()[0])


def survivors() -> list[str]:
    """The database, web server, uwsgi and memcached processes still running."""
    proc = subprocess.run(["ps", "-eo", "pid,user,stat,comm,args", "--no-headers"],
                          capture_output=True, text=True)
    names = ("mysqld", "mariadbd", "apache2", "uwsgi", "memcached")
    # a zombie is gone but for its exit status, which a container's PID 1 may be slow
    # to collect
    return [" ".join(line.split()[:4]) for line in proc.stdout.splitlines()
            if any(name in line for name in names) and not line.split()[2].startswith("Z")]


def ran_text(ran: list[str]) -> str:
    return f"{len(ran)} ran: {', '.join(ran)}"


def measure(args) -> list[str]:
    bench = Bench(args)
    top = args.checkout
    if not (top / "stack.sh").exists():
        bench.run("git", "clone", "-q", str(args.source), str(top))
    commit = bench.run("git", "-C", str(top), "log", "-1", "--format=%h %s")[1].stdout.strip()
    (top / "local.conf").write_text(local_conf(args.services, args.repos, 64))
    if (top / ".stack").exists():
        took, _ = bench.run(bench.stackdag, "clean", cwd=top)
        bench.row("clean (before: a first stack)", f"{took:.1f} s",
                  "clean.sh's cleanups: the database purged, DATA_DIR and the venv gone")

    took, ran, _ = bench.stack(top)
    bench.row("first stack", f"{took:.1f} s", f"{len(ran)} steps")
    bench.row("answers", bench.answers(),
              "openstack --os-cloud devstack-admin token issue (and image list)")

    times = [bench.stack(top)[0] for _ in range(args.noop_runs)]
    bench.row("no-op (stackdag stack)", f"{statistics.median(times) * 1000:.0f} ms",
              f"median of {len(times)}, min {min(times) * 1000:.0f}, "
              f"max {max(times) * 1000:.0f} (target < 100 ms)")

    pgid = keystone_pgid(top)
    os.kill(pgid, signal.SIGKILL)
    while alive(pgid):
        time.sleep(0.05)
    took, ran, _ = bench.stack(top)
    bench.row("kill -9 keystone, stack", f"{took:.1f} s",
              f"(target < 20 s) {ran_text(ran)}; {bench.answers()}")

    pgid = keystone_pgid(top)
    took, _ = bench.run(bench.stackdag, "unstack", cwd=top)
    down = (not group_alive(pgid), http_status("http://127.0.0.1/identity/v3/"), bench.token())
    bench.row("unstack", f"{took:.1f} s",
              f"keystone {'gone' if down[0] else 'STILL RUNNING'}, HTTP {down[1]}, token "
              f"{'STILL ISSUED' if down[2] else 'refused'}")
    took, ran, _ = bench.stack(top)
    bench.row("stack after unstack", f"{took:.1f} s",
              f"{ran_text(ran)}; {bench.answers()}")

    (top / "local.conf").write_text(local_conf(args.services, args.repos, 65))
    took, ran, _ = bench.stack(top)
    conf = Path("/etc/keystone/keystone.conf").read_text()
    value = re.search(rf"^{POST_CONFIG} = (\S+)", conf, re.M)
    bench.row("post-config edit, stack", f"{took:.1f} s",
              f"{ran_text(ran)}; keystone.conf {POST_CONFIG} = "
              f"{value.group(1) if value else 'MISSING'}; {bench.answers()}")

    if args.record_checkout:
        record(bench, args)
    unstack_all(bench, top)
    took, ran, _ = bench.stack(top)
    bench.row("stack after unstack --all", f"{took:.1f} s",
              f"{ran_text(ran)}; {bench.answers()}")
    if not args.keep:
        unstack_all(bench, top)
    return report(bench, commit)


def unstack_all(bench: Bench, top: Path) -> None:
    took, _ = bench.run(bench.stackdag, "unstack", "--all", cwd=top)
    left = survivors()
    bench.row("unstack --all", f"{took:.1f} s",
              "left running: " + (", ".join(left) if left else "none of mysqld, "
                                  "apache2, uwsgi, memcached"))


def record(bench: Bench, args) -> None:
    """Record mode in a second, fresh checkout with DevStack's default services."""
    top = args.record_checkout
    if not (top / "stack.sh").exists():
        bench.run("git", "clone", "-q", str(args.source), str(top))
    (top / "local.conf").write_text(local_conf("", args.repos, 64, default_services=True))
    took, proc = bench.run(bench.stackdag, "stack", "--record", cwd=top, check=False)
    ran = [m.group(1) for m in map(RAN.match, proc.stdout.splitlines()) if m]
    if proc.returncode:
        failed = [line for line in proc.stdout.splitlines() if "FAILED" in line][:1]
        bench.row("record: stack --record (default services)", "FAILED",
                  f"after {len(ran)} steps, {took:.0f} s: {' '.join(failed)}")
        bench.notes.append(proc.stdout[-3000:])
        return
    bench.row("record: stack --record (default services)", f"{took:.1f} s",
              f"{len(ran)} steps")
    took, again, _ = bench.stack(top, "--record")
    bench.row("record: again", f"{took * 1000:.0f} ms", f"{len(again)} ran")
    _, proc = bench.run(bench.stackdag, "recorded", cwd=top)
    kinds: dict[str, int] = {}
    for line in proc.stdout.splitlines():
        words = line.split()
        if len(words) > 1:
            kinds[words[1]] = kinds.get(words[1], 0) + 1
    bench.row("record: stackdag recorded", f"{sum(kinds.values())} records",
              ", ".join(f"{k} {n}" for k, n in sorted(kinds.items(), key=lambda kv: -kv[1])))
    bench.notes.append("stackdag recorded (first 60 lines):\n" +
                       "\n".join(proc.stdout.splitlines()[:60]))


def report(bench: Bench, commit: str) -> list[str]:
    stackdag = subprocess.run([bench.stackdag, "--version"], capture_output=True,
                              text=True).stdout.strip()
    width = max(len(what) for what, _, _ in bench.rows)
    lines = [f"DevStack for real (bench/devstack_real.py), {time.strftime('%Y-%m-%d %H:%M')}",
             "", f"devstack  {commit}", f"stackdag  {stackdag}",
             f"services  {bench.args.services}; repos {bench.args.repos}", ""]
    lines += [f"{what:<{width}}  {value:>10}  {detail}" for what, value, detail in bench.rows]
    return lines + [""] + bench.notes


def as_user(args) -> int:
    """Root: run the bench as --user, and append its table to --out."""
    user = pwd.getpwnam(args.user)
    env = {"HOME": user.pw_dir, "USER": user.pw_name, "LOGNAME": user.pw_name,
           "PATH": "/usr/local/bin:/usr/bin:/bin"}
    cmd = ["runuser", "-u", args.user, "--", "env", *[f"{k}={v}" for k, v in env.items()],
           "/usr/bin/python3", str(Path(__file__).resolve()), *sys.argv[1:], "--out", "-"]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
    sys.stdout.write(proc.stdout)
    if proc.returncode == 0 and args.out != "-":
        with open(args.out, "a", encoding="utf-8") as out:
            out.write("\n" + proc.stdout)
    return proc.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkout", type=Path, help="the DevStack checkout to stack")
    parser.add_argument("--source", type=Path, default=Path("/work/ref/devstack"),
                        help="where to clone a missing checkout from")
    parser.add_argument("--repos", type=Path, default=Path("/work/ref/repos"),
                        help="local git repositories (keystone.git, requirements.git...)")
    parser.add_argument("--user", default="stack")
    parser.add_argument("--stackdag", default="/opt/stack/sdvenv/bin/stackdag")
    parser.add_argument("--services", default="key,mysql")
    parser.add_argument("--noop-runs", type=int, default=7)
    parser.add_argument("--record-checkout", type=Path)
    parser.add_argument("--keep", action="store_true", help="leave the stack running")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results.txt"))
    args = parser.parse_args()
    if os.geteuid() == 0:
        return as_user(args)
    lines = measure(args)
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    if args.out != "-":
        with open(args.out, "a", encoding="utf-8") as out:
            out.write("\n" + text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
