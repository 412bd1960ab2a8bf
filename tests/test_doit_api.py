"""The parts of doit stackdag relies on that doit does not promise (pyproject.toml pins
doit's minor version for them). If a new doit changes one, this fails first and names it."""

import inspect
import os
import sqlite3

from doit.cmd_list import List
from doit.cmd_run import Run
from doit.cmdparse import CmdParse, CmdOption, DefaultUpdate
from doit.dependency import DbmDB, Dependency, JSONCodec, MD5Checker, SqliteDB

from stackdag.db import DurableSqliteDB


def test_sqlite_backend_keeps_a_connection_a_cache_and_a_dirty_set(tmp_path):
    db = SqliteDB(str(tmp_path / "x.db"), JSONCodec())
    assert isinstance(db._conn, sqlite3.Connection)
    db.set("t", "deps:", "v")
    assert db._cache == {"t": {"deps:": "v"}} and db._dirty == {"t"}
    db.dump()


def test_the_durable_backend_commits_each_task_at_once(tmp_path):
    name = str(tmp_path / "x.db")
    db = DurableSqliteDB(name, JSONCodec())
    db.set("t", "checker:", "md5")
    db.set("t", "deps:", "v")
    with sqlite3.connect(name) as other:              # another reader sees it before dump
        assert other.execute("select count(*) from doit where task_id='t'").fetchone() == (1,)
    assert db._dirty == set()


def test_the_dependency_manager_exposes_its_backend(tmp_path):
    manager = Dependency(DbmDB, str(tmp_path / "dep"))
    assert not manager.backend.in_("never")


def test_params_record_which_options_the_command_line_set():
    params, _ = CmdParse([CmdOption({"name": "num_process", "short": "n", "type": int,
                                     "default": 0})]).parse(["-n", "2"])
    assert isinstance(params, DefaultUpdate) and params._non_default_keys == {"num_process"}


def test_list_passes_its_options_by_name():
    assert list(inspect.signature(List._execute).parameters) == [
        "self", "subtasks", "quiet", "status", "private", "list_deps", "template", "sort",
        "pos_args"]


def test_run_passes_its_options_by_name_and_takes_a_reporter_instance():
    assert list(inspect.signature(Run._execute).parameters) == [
        "self", "outfile", "verbosity", "always", "continue_", "reporter", "num_process",
        "par_type", "single", "auto_delayed_regex", "force_verbosity", "failure_verbosity",
        "pdb"]
    assert "reporter_obj = reporter_cls" in inspect.getsource(Run._execute)


def test_forget_passes_its_options_by_name():
    from doit.cmd_forget import Forget

    assert list(inspect.signature(Forget._execute).parameters) == [
        "self", "forget_sub", "forget_disable_default", "forget_all"]


def test_the_thread_runner_reports_a_start_from_the_thread_that_runs_the_task(tmp_path):
    """runrecord.py numbers the workers by the thread that calls execute_task."""
    import threading

    from doit.control import TaskControl
    from doit.runner import MThreadRunner
    from doit.task import Task

    reported, ran = {}, {}

    class Reporter:
        def execute_task(self, task):
            reported[task.name] = threading.get_ident()

        def __getattr__(self, name):          # the rest of the reporter's interface
            return lambda *args: None

    def action(name):
        ran[name] = threading.get_ident()
    tasks = [Task(name, [(action, [name])]) for name in ("a", "b")]
    control = TaskControl(tasks)
    control.process(["a", "b"])
    runner = MThreadRunner(Dependency(DbmDB, str(tmp_path / "dep")), Reporter(),
                           num_process=2)
    runner.run_all(control.task_dispatcher())
    assert reported == ran and threading.get_ident() not in ran.values()


def test_the_md5_checker_keeps_mtime_size_and_md5_and_trusts_an_unchanged_mtime(tmp_path):
    # db.SizedMD5Checker reads the size from doit's state and refuses that trust
    path = tmp_path / "f"
    path.write_text("one")
    state = MD5Checker().get_state(str(path), None)
    assert len(state) == 3 and state[:2] == (os.path.getmtime(path), 3)
    assert MD5Checker().get_state(str(path), state) is None
    st = path.stat()
    path.write_text("longer")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert not MD5Checker().check_modified(str(path), path.stat(), state)
