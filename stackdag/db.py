"""doit's sqlite3 backend, made durable: progress is committed after every task.

doit keeps its DB in memory and writes it once when the run ends, so SIGTERM or SIGKILL
would lose every task that finished. Here each task's record is written as soon as doit
saves it, and committed with the last key doit writes for a task, so a killed run loses at
most the task in flight. And what doit records of a step's files (SizedMD5Checker).
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from pathlib import Path

from doit.dependency import DatabaseException, MD5Checker, SqliteDB

from stackdag import results
from stackdag.errors import StackdagError, user_errors
from stackdag.state import StateDir

# Dependency.save_success writes 'deps:' last; ignore marks and removals stand alone.
_LAST_KEYS = ("deps:", "ignore:")


def set_aside_if_corrupt(name: str) -> str | None:
    """Move an unreadable DB out of the way (``clean`` starts over); returns where to."""
    path = Path(name)
    if not path.exists():
        return None
    try:
        with closing(sqlite3.connect(path)) as conn:
            conn.execute("pragma quick_check").fetchall()
            conn.execute("select count(*) from doit").fetchall()
        return None
    except sqlite3.OperationalError:
        return None             # busy or locked: in use, not broken
    except sqlite3.DatabaseError:
        aside = path.with_name(path.name + ".corrupt")
        path.replace(aside)
        for extra in ("-wal", "-shm"):
            path.with_name(path.name + extra).unlink(missing_ok=True)
        return str(aside)


class DurableSqliteDB(SqliteDB):
    desc = "sqlite3, committed after each task (stackdag)"

    @user_errors       # doit's own commands (forget, dumpdb) open the DB too
    def __init__(self, name, codec, *, module_name=None):
        Path(name).parent.mkdir(parents=True, exist_ok=True)
        self._state = StateDir(Path(name).resolve().parent.parent)     # TOP/.stack/doit.db
        try:
            super().__init__(name, codec, module_name=module_name)
            self._conn.execute("pragma journal_mode=wal")
            self._conn.execute("pragma synchronous=normal")
        except (DatabaseException, sqlite3.DatabaseError) as err:
            reason = str(err).rsplit("Original error:", 1)[-1].strip()
            raise StackdagError(
                f"{name}: the stack's state database is unreadable ({reason}); "
                "`stackdag clean` (or `doit clean`) sets it aside and starts over") from None


    def set(self, task_id, dependency, value):
        super().set(task_id, dependency, value)
        if dependency in _LAST_KEYS:
            self._conn.execute("insert or replace into doit values (?,?)",
                               (task_id, self.codec.encode(self._cache[task_id])))
            self._conn.commit()
            self._dirty.discard(task_id)

    def remove(self, task_id):
        super().remove(task_id)
        self._conn.commit()
        results.forget(self._state, task_id)    # forgotten: its next run id is new

    def remove_all(self):
        super().remove_all()
        self._conn.commit()
        results.forget(self._state)


class SizedMD5Checker(MD5Checker):
    """doit's md5 check takes a file whose modification time did not change for unchanged.
    An edit can keep it (cp -p, tar, rsync -t, two writes within one timestamp tick): a
    file whose size changed is changed too. The state is doit's (mtime, size, md5)."""

    def check_modified(self, file_path, file_stat, state):
        return file_stat.st_size != state[1] or super().check_modified(file_path, file_stat,
                                                                        state)

    def get_state(self, dep, current_state):
        if current_state and os.path.getsize(dep) != current_state[1]:
            current_state = None        # doit would keep the old state for the same mtime
        return super().get_state(dep, current_state)
