"""doit's sqlite3 backend, made durable: progress is committed after every task.

doit keeps its DB in memory and writes it once when the run ends, so SIGTERM or SIGKILL
would lose every task that finished. Here each task's record is written as soon as doit
saves it, and committed with the last key doit writes for a task, so a killed run loses at
most the task in flight.
"""

from __future__ import annotations

from pathlib import Path

from doit.dependency import SqliteDB

# Dependency.save_success writes 'deps:' last; ignore marks and removals stand alone.
_LAST_KEYS = ("deps:", "ignore:")


class DurableSqliteDB(SqliteDB):
    desc = "sqlite3, committed after each task (stackdag)"

    def __init__(self, name, codec, *, module_name=None):
        Path(name).parent.mkdir(parents=True, exist_ok=True)
        super().__init__(name, codec, module_name=module_name)
        self._conn.execute("pragma journal_mode=wal")
        self._conn.execute("pragma synchronous=normal")

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

    def remove_all(self):
        super().remove_all()
        self._conn.commit()
