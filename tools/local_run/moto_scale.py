"""Make a moto request cost what the request touches, not what the stack already holds.

An outside check ran 1,000 synthetic accounts through the local stack in 783 s and 7.6 GB;
10,000 could not finish (issue 15). The services being imitated do not slow down as a
table or a bucket fills, but moto 5.2.5 does, in four places. Each patch below keeps what
moto answers exactly as it was and removes only the cost that grows with history:

* ``TransactWriteItems`` deep-copies every table it writes before applying the first item,
  so that it can put the copy back if any item fails: one write per invoice costs a copy
  of every invoice. Here the "copy" is an undo record per item the transaction writes
  (the item as it was, or its absence), taken just before moto changes it; on the same
  failures that make moto put its copy back, the records put those items back. moto's
  own loop still checks the conditions and builds the cancellation reasons.
* ``Query`` walks every item of the table, sorted, to find one partition: a base-table
  query by its partition key, a GSI query by its hash key. Here moto's own query runs on
  just that partition: the base table's partition is its dictionary entry, and each GSI's
  partitions are kept in an index (hash key value -> primary keys) that follows every
  write: put, update, delete and a transaction's roll-back re-read the written item.
  A GSI query that pages skips, as moto does, the items before the start key, without
  walking them, and hands moto only the page's ``Limit`` items and the next one (all of
  them where a range-key comparison or a legacy filter may skip some): moto sorts and
  walks every candidate for each page, so paging through a partition of n items cost
  n²/Limit. The partition's order is cached as keys, until an item joins or leaves it or
  one of its keys changes.
* SES keeps every message it accepted in ``sent_messages``, the raw MIME with the PDF
  attached (~90 KB an invoice). Here each message's ``raw_data`` lives in a file.
* S3 keeps every object's bytes in memory (moto spools only objects over ~5 MB). Here
  objects over 16 KB live in files; the manifests and reports stay in memory.

Four more remove work moto repeats on every request although its result cannot change:
the list of a response class's methods, the attribute names its serializer tries for
each member of a response shape, S3's URL table (re-imported per request), and the full
MIME parse of an SES raw message of which moto reads only the headers. Another takes
from UpdateItem's validation what repeats for the same expression: the deep copy of its
parse, and the three checks that read only the expression, its names and the table's keys.

One more lets moto free the copies of items its requests make (moto's models remember
every instance they make, for moto server's dashboard).

And one answers DynamoDB's item reads (``GetItem``, ``BatchGetItem``, ``Query``, ``Scan``)
with ``json.dumps`` of moto's result, which is already DynamoDB's wire format, instead of
walking every attribute of every item through the response shape: that walk was an
eighth of a local run's time. Binary values are base64, as on the wire; members the
shape does not know (moto's unrequested ``ConsumedCapacity``) are ignored by botocore.

Each ``make_*`` function installs its patch once; calling it again changes nothing.
"""

from __future__ import annotations

import atexit
import base64
import bisect
import copy
import functools
import inspect
import itertools
import json
import pickle
import shutil
import tempfile
import threading
import types
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import moto.dynamodb.models as dynamodb_models
import moto.s3.models as s3_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import Table
from moto.ses.models import RawMessage

PrimaryKey = tuple[DynamoType, DynamoType | None]


def make_moto_scale() -> None:
    """Every patch of this module."""
    make_moto_transactions_undo_per_item()
    make_moto_queries_read_one_partition()
    make_moto_ses_keep_messages_on_disk()
    make_moto_s3_keep_objects_on_disk()
    make_moto_requests_skip_repeated_work()
    make_moto_update_validation_skip_repeated_work()
    make_moto_dynamodb_items_answer_as_plain_json()
    make_moto_dynamodb_items_untracked()


# ------------------------------------------------------------- the patches kept
_MISSING = object()
#: (class or module, attribute) -> what moto had there before any patch of this module.
_STOCK: dict[tuple[Any, str], Any] = {}


def _own_attribute(owner: Any, name: str) -> Any:
    return vars(owner).get(name, _MISSING)


def _set_attribute(owner: Any, name: str, value: Any) -> None:
    if value is _MISSING:
        if name in vars(owner):
            delattr(owner, name)
    else:
        setattr(owner, name, value)


#: The patches installed in this process (a patch is installed once, whatever wraps it later).
_installed: set[str] = set()


def _first_install(patch: str) -> bool:
    if patch in _installed:
        return False
    _installed.add(patch)
    return True


def _replace(owner: Any, name: str, value: Any) -> None:
    _STOCK.setdefault((owner, name), _own_attribute(owner, name))
    setattr(owner, name, value)


@contextmanager
def stock_moto() -> Iterator[None]:
    """moto as released, for the duration: what the tests compare the patched moto with.

    Whatever stands in the patched places (these patches, or wrappers installed over
    them, such as the stack's serialization) is put back afterwards. The GSI indexes are
    dropped: writes made meanwhile did not maintain them, so they are rebuilt on demand.
    """
    current = {key: _own_attribute(*key) for key in _STOCK}
    for (owner, name), value in _STOCK.items():
        _set_attribute(owner, name, value)
    try:
        yield
    finally:
        for (owner, name), value in current.items():
            _set_attribute(owner, name, value)
        with _index_lock:
            _indexes.clear()


# ----------------------------------------------------------------- bodies on disk
_body_directory: Path | None = None
_body_names = itertools.count()
_body_lock = threading.Lock()


def _body_path(kind: str) -> Path:
    """A new file name for one body, in a folder removed when the process ends."""
    global _body_directory
    with _body_lock:
        if _body_directory is None:
            _body_directory = Path(tempfile.mkdtemp(prefix="local-stack-bodies-"))
            atexit.register(shutil.rmtree, _body_directory, True)
        return _body_directory / f"{kind}-{next(_body_names)}"


# ----------------------------------------------------------------------- SES
def _read_raw_data(message: RawMessage) -> str:
    path = message.__dict__.get("_raw_data_path")
    if path is None:  # a message kept by moto before this patch
        return str(message.__dict__.get("raw_data", ""))
    return Path(path).read_bytes().decode("utf-8", "surrogatepass")


def _write_raw_data(message: RawMessage, raw_data: str) -> None:
    path = message.__dict__.get("_raw_data_path") or _body_path("ses")
    path.write_bytes(raw_data.encode("utf-8", "surrogatepass"))
    message.__dict__["_raw_data_path"] = path


def make_moto_ses_keep_messages_on_disk() -> None:
    """``RawMessage.raw_data`` reads and writes a file: the same text, none of it in memory.

    The round trip is exact for any ``str`` (UTF-8 with ``surrogatepass``). The files go
    when the process ends, as moto's memory does.
    """
    if not _first_install("ses"):
        return
    _replace(RawMessage, "raw_data", property(_read_raw_data, _write_raw_data))


# ------------------------------------------------------------------------ S3
class ObjectBody:
    """What moto's ``FakeKey`` keeps its bytes in, instead of a ``SpooledTemporaryFile``.

    The same calls (``seek``, ``tell``, ``read``, ``write``, ``truncate``, ``close``) with
    the same results; a body over ``in_memory_limit`` bytes is kept in a file that is
    opened only while it is read or written, so 100,000 PDFs hold no file descriptors.
    """

    in_memory_limit = 16 * 1024

    def __init__(self, max_size: int = 0, *args: Any, **kwargs: Any) -> None:
        self._in_memory = b""
        self._path: Path | None = None
        self._position = 0
        self.closed = False

    def _load(self) -> bytes:
        if self.closed:
            raise ValueError("I/O operation on closed file.")
        return self._path.read_bytes() if self._path else self._in_memory

    def _store(self, content: bytes) -> None:
        if len(content) <= self.in_memory_limit:
            self._in_memory = content
            if self._path:
                self._path.unlink(missing_ok=True)
                self._path = None
            return
        self._path = self._path or _body_path("s3")
        self._path.write_bytes(content)
        self._in_memory = b""

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._position, 2: len(self._load())}[whence]
        self._position = base + offset
        return self._position

    def tell(self) -> int:
        return self._position

    def read(self, size: int | None = -1) -> bytes:
        content = self._load()
        end = len(content) if size is None or size < 0 else self._position + size
        chunk = content[self._position : end]
        self._position += len(chunk)
        return chunk

    def write(self, data: bytes) -> int:
        content = self._load()
        padded = content[: self._position].ljust(self._position, b"\0")
        self._store(padded + bytes(data) + content[self._position + len(data) :])
        self._position += len(data)
        return len(data)

    def truncate(self, size: int | None = None) -> int:
        size = self._position if size is None else size
        self._store(self._load()[:size])
        return size

    def close(self) -> None:
        if self._path:
            self._path.unlink(missing_ok=True)
            self._path = None
        self._in_memory = b""
        self.closed = True


def make_moto_s3_keep_objects_on_disk() -> None:
    """moto's S3 objects keep their bytes in ``ObjectBody`` (``s3/models.py`` uses
    ``tempfile`` for nothing else)."""
    if not _first_install("s3"):
        return
    _replace(
        s3_models,
        "tempfile",
        types.SimpleNamespace(SpooledTemporaryFile=ObjectBody),
    )


# --------------------------------------------------------- DynamoDB transactions
_transaction = threading.local()


class TableBackup:
    """What moto's ``TransactWriteItems`` keeps instead of a deep copy of a table.

    moto calls ``copy.deepcopy(table)`` for each table of the transaction before it
    applies any item, and on failure puts that value back into ``backend.tables``. The
    value is this object: the live table plus, per item the transaction writes, a copy
    of that item as it was (or None if it did not exist), recorded just before moto
    changes it. ``restore()`` puts those items back and returns the table.
    """

    def __init__(self, table: Table) -> None:
        self.table = table
        self.items_before: dict[PrimaryKey, Item | None] = {}
        shard = table.stream_shard
        self.stream_records_before = len(shard.items) if shard is not None else 0

    def __getattr__(self, name: str) -> Any:
        """Answers as the live table. On failure moto puts this object into
        ``backend.tables`` and raises; until ``transact_write_items`` below puts the table
        back, another thread (a Map's concurrent child) may look the table up and get this
        object: it must still serve that request, not fail on a missing attribute."""
        return getattr(self.table, name)

    def remember(self, key: PrimaryKey) -> None:
        if key not in self.items_before:
            current = _stored_item(self.table, key)
            self.items_before[key] = copy.deepcopy(current) if current is not None else None

    def restore(self) -> Table:
        table = self.table
        for (hash_key, range_key), before in self.items_before.items():
            if table.range_key_attr is None:
                if before is None:
                    table.items.pop(hash_key, None)
                else:
                    table.items[hash_key] = before
            elif before is None:
                table.items.get(hash_key, {}).pop(range_key, None)
            else:
                table.items[hash_key][range_key] = before
            _reindex(table, (hash_key, range_key))
        if table.stream_shard is not None:
            del table.stream_shard.items[self.stream_records_before :]
        return table


class _CopyModule:
    """Stands in for ``copy`` inside ``moto.dynamodb.models``: a table copied by a
    transaction becomes a ``TableBackup``; every other copy is a real one."""

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)

    @staticmethod
    def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
        backups: dict[int, TableBackup] | None = getattr(_transaction, "backups", None)
        if backups is not None and isinstance(value, Table):
            if id(value) not in backups:
                backups[id(value)] = TableBackup(value)
            return backups[id(value)]
        return copy.deepcopy(value, memo)


def _backup_of(table: Table) -> TableBackup | None:
    backups: dict[int, TableBackup] | None = getattr(_transaction, "backups", None)
    return backups.get(id(table)) if backups else None


def make_moto_transactions_undo_per_item() -> None:
    """Roll a failed transaction back item by item instead of from a copy of the table."""
    if not _first_install("transactions"):
        return
    original = DynamoDBBackend.transact_write_items
    _install_write_hooks()
    _replace(dynamodb_models, "copy", _CopyModule())

    def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        outer = getattr(_transaction, "backups", None)
        _transaction.backups = {}
        try:
            original(self, transact_items)
        finally:
            _transaction.backups = outer
            for name, table in list(self.tables.items()):
                if isinstance(table, TableBackup):  # moto rolled this table back
                    self.tables[name] = table.restore()

    _replace(DynamoDBBackend, "transact_write_items", transact_write_items)


# ------------------------------------------------------- DynamoDB write hooks
def _stored_item(table: Table, key: PrimaryKey) -> Item | None:
    """The item under a key, read without creating the partition (as moto's lookup does)."""
    hash_key, range_key = key
    partition = table.items.get(hash_key)
    if partition is None or table.range_key_attr is None:
        return partition  # type: ignore[no-any-return]
    return partition.get(range_key)  # type: ignore[no-any-return]


def _put_key(table: Table, item_attrs: dict[str, Any]) -> PrimaryKey | None:
    try:
        hash_key = DynamoType(item_attrs[table.hash_key_attr])
        range_key = DynamoType(item_attrs[table.range_key_attr]) if table.range_key_attr else None
    except Exception:  # moto refuses the item before it writes anything
        return None
    return hash_key, range_key


def _update_key(table: Table, key: Any) -> PrimaryKey:
    """The item ``DynamoDBBackend.update_item`` writes, found as it finds it."""
    if table.hash_key_attr in key and table.range_key_attr in key:
        return DynamoType(key[table.hash_key_attr]), DynamoType(key[table.range_key_attr])
    if table.hash_key_attr in key:
        return DynamoType(key[table.hash_key_attr]), None
    return DynamoType(key), None


def _written_key(table: Table, key: PrimaryKey | None, write: Callable[[], Any]) -> Any:
    """Run one write of ``key``: remembered first inside a transaction, re-indexed after."""
    if key is None:
        return write()
    backup = _backup_of(table)
    if backup is not None:
        backup.remember(key)
    try:
        return write()
    finally:
        _reindex(table, key)


def _install_write_hooks() -> None:
    """Every write moto makes to an item goes through one of these three methods
    (``batch_write_item`` and PartiQL call them too)."""
    if not _first_install("write hooks"):
        return
    table_put_item = Table.put_item
    table_delete_item = Table.delete_item
    backend_update_item = DynamoDBBackend.update_item

    def put_item(self: Table, item_attrs: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        return _written_key(
            self,
            _put_key(self, item_attrs),
            lambda: table_put_item(self, item_attrs, *args, **kwargs),
        )

    def delete_item(self: Table, hash_key: DynamoType, range_key: DynamoType | None) -> Any:
        return _written_key(
            self, (hash_key, range_key), lambda: table_delete_item(self, hash_key, range_key)
        )

    def update_item(
        self: DynamoDBBackend, table_name: str, key: Any, *args: Any, **kwargs: Any
    ) -> Any:
        write = lambda: backend_update_item(self, table_name, key, *args, **kwargs)  # noqa: E731
        try:
            table = self.get_table(table_name)
            item_key = _update_key(table, key)
        except Exception:  # moto raises the same error itself, before writing
            return write()
        return _written_key(table, item_key, write)

    _replace(Table, "put_item", put_item)
    _replace(Table, "delete_item", delete_item)
    _replace(DynamoDBBackend, "update_item", update_item)


# ------------------------------------------------------------ DynamoDB queries
_UNHASHABLE = object()  # a key value that cannot be a dictionary key (a list or a map)
_index_lock = threading.RLock()


class PartitionIndex:
    """Each GSI hash key value of one table -> the primary keys of the items that have it.

    Built from the whole table the first time the table is queried through a GSI, then
    kept current by ``_reindex`` after every write. It only narrows where moto looks:
    moto's query still compares every candidate's keys itself.
    """

    def __init__(self, table: Table) -> None:
        self.attributes = _gsi_hash_attributes(table)
        #: every attribute a GSI query sorts by: all index keys and the table's keys
        self.sort_attributes = _key_attribute_names(table)
        self.members: dict[str, dict[Any, dict[PrimaryKey, None]]] = {
            name: {} for name in self.attributes
        }
        self.entries: dict[PrimaryKey, tuple[tuple[str, Any], ...]] = {}
        self.sort_values: dict[PrimaryKey, tuple[Any, ...]] = {}
        #: (attribute, value) -> (index name, sort attributes) -> the partition's keys in
        #: moto's order; dropped when an item joins or leaves it or one of its keys changes.
        self.ordered: dict[tuple[str, Any], dict[tuple[Any, ...], list[PrimaryKey]]] = {}
        for item in table.all_items():
            self.update((item.hash_key, item.range_key), item)

    def update(self, key: PrimaryKey, item: Item | None) -> None:
        """Follow one write. A write that moves no key (a status, a time) keeps the cached
        orders: they hold keys, and the items are read from the table when queried."""
        entries: list[tuple[str, Any]] = []
        sort_values: tuple[Any, ...] = ()
        if item is not None:
            for name in self.attributes:
                value = item.attrs.get(name)
                if value is None:
                    continue
                try:
                    hash(value)
                except TypeError:
                    value = _UNHASHABLE
                entries.append((name, value))
            sort_values = tuple(item.attrs.get(name) for name in self.sort_attributes)
        previous = self.entries.get(key)
        if previous == tuple(entries) and self.sort_values.get(key) == sort_values:
            return
        for entry in self.entries.pop(key, ()):
            self.members[entry[0]].get(entry[1], {}).pop(key, None)
            self._touch(entry)
        self.sort_values.pop(key, None)
        if item is None:
            return
        for name, value in entries:
            self.members[name].setdefault(value, {})[key] = None
            self._touch((name, value))
        self.entries[key] = tuple(entries)
        self.sort_values[key] = sort_values

    def _touch(self, partition: tuple[str, Any]) -> None:
        if partition[1] is _UNHASHABLE:  # a candidate of every partition of its attribute
            for other in [key for key in self.ordered if key[0] == partition[0]]:
                del self.ordered[other]
        else:
            self.ordered.pop(partition, None)

    def candidates(self, name: str, value: DynamoType) -> list[PrimaryKey]:
        found = dict(self.members[name].get(value, {}))
        found.update(self.members[name].get(_UNHASHABLE, {}))
        return list(found)


_indexes: weakref.WeakKeyDictionary[Table, PartitionIndex] = weakref.WeakKeyDictionary()


def _key_attribute_names(table: Table) -> tuple[str, ...]:
    names = [table.hash_key_attr, table.range_key_attr]
    for index in table.all_indexes():
        names += [key["AttributeName"] for key in index.schema]
    return tuple(dict.fromkeys(name for name in names if name))


def _gsi_hash_attributes(table: Table) -> tuple[str, ...]:
    names = {
        key["AttributeName"]
        for index in table.global_indexes
        for key in index.schema
        if key["KeyType"] == "HASH"
    }
    return tuple(sorted(names))


def _partition_index(table: Table) -> PartitionIndex:
    index = _indexes.get(table)
    if index is None or index.attributes != _gsi_hash_attributes(table):  # GSIs changed
        index = _indexes[table] = PartitionIndex(table)
    return index


def _reindex(table: Table, key: PrimaryKey) -> None:
    with _index_lock:
        index = _indexes.get(table)
        if index is not None:
            index.update(key, _stored_item(table, key))


_narrowed = threading.local()


def _query_candidates(table: Table, arguments: dict[str, Any]) -> list[Item] | None:
    """The items moto's query may return, in moto's order; None where it cannot narrow."""
    conditions = arguments.get("hash_key_conditions") or []
    index_name = arguments.get("index_name")
    if not index_name:
        hash_key = arguments.get("hash_key")
        if hash_key is None:
            return None
        return _by_table_order(_partition_items(table, hash_key))
    indexes = {index.name: index for index in table.all_indexes()}
    if index_name not in indexes or not conditions:
        return None  # moto reports the error, or has nothing to narrow by
    name, value = conditions[0]
    if name == table.hash_key_attr:
        return _by_table_order(_partition_items(table, value))
    with _index_lock:
        index = _partition_index(table)
        if name not in index.attributes:
            return None
        return _ordered_partition(table, index, name, value, arguments)


def _partition_items(table: Table, hash_key: DynamoType) -> list[Item]:
    try:
        partition = table.items.get(hash_key)
    except TypeError:
        return [item for item in table.all_items() if item.hash_key == hash_key]
    if partition is None:
        return []
    return list(partition.values()) if table.range_key_attr else [partition]


def _by_table_order(items: list[Item]) -> list[Item]:
    """``Table.all_items()``'s order."""
    return sorted(items, key=lambda x: (x.hash_key, x.range_key) if x.range_key else x.hash_key)


def _ordered_partition(
    table: Table, index: PartitionIndex, name: str, value: DynamoType, arguments: dict[str, Any]
) -> list[Item]:
    """One GSI partition, in the order moto's query sorts a GSI's items, less the items a
    query with an ``ExclusiveStartKey`` would skip.

    moto sorts its candidates on the index's keys, then the table's (``sorted_items``),
    and walks past every item that ``_item_comes_before_dct`` the start key. Sorted that
    way, those items are a prefix of the list, found here by bisection with moto's own
    test; moto's loop then starts where it would have stopped skipping.
    """
    attributes = _sort_attributes(table, arguments["index_name"])
    orders = index.ordered.setdefault((name, value), {})
    ordered_keys = orders.get((arguments["index_name"], *attributes))
    if ordered_keys is None:
        found = [
            (key, item)
            for key in index.candidates(name, value)
            if (item := _stored_item(table, key)) is not None
        ]
        ordered = _moto_sort([item for _key, item in found], attributes)
        if ordered is None:
            return _by_table_order([item for _key, item in found])
        key_of = {id(item): key for key, item in found}
        ordered_keys = [key_of[id(item)] for item in ordered]
        orders[(arguments["index_name"], *attributes)] = ordered_keys
    if arguments.get("scan_index_forward") is False:
        return _items(table, ordered_keys)
    start = _first_kept(table, ordered_keys, arguments)
    return _items(table, ordered_keys[start : _page_end(start, len(ordered_keys), arguments)])


def _items(table: Table, keys: list[PrimaryKey]) -> list[Item]:
    return [item for key in keys if (item := _stored_item(table, key)) is not None]


def _first_kept(table: Table, ordered_keys: list[PrimaryKey], arguments: dict[str, Any]) -> int:
    """How many items moto's loop would skip for the start key (0 without one)."""
    start_key = arguments.get("exclusive_start_key")
    if start_key is None:
        return 0
    hash_attrs, range_attrs = _key_attributes(table, arguments["index_name"])
    try:
        return bisect.bisect_left(
            _Prefix(
                ordered_keys,
                lambda key: table._item_comes_before_dct(
                    _stored_item(table, key), start_key, hash_attrs, range_attrs, True
                ),
            ),
            True,
        )
    except Exception:  # moto's loop meets the same problem and reports it
        return 0


def _page_end(start: int, total: int, arguments: dict[str, Any]) -> int:
    """Where moto's loop stops: after ``Limit`` items and the one that shows there are
    more, when every candidate counts toward the limit (no range-key comparison and no
    legacy filter skips any). A 1 MB page stops earlier, inside the window, as in moto."""
    limit = arguments.get("limit")
    if limit is None or arguments.get("range_comparison") or arguments.get("filter_kwargs"):
        return total
    return min(total, start + int(limit) + 1)


class _Prefix:
    """A read-only view for ``bisect``: True for the items a start key skips."""

    def __init__(self, items: list[PrimaryKey], skipped: Callable[[PrimaryKey], bool]) -> None:
        self.items = items
        self.skipped = skipped

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, position: int) -> bool:
        """False while the start key skips the item, True from the first item it keeps."""
        return not self.skipped(self.items[position])


def _key_attributes(table: Table, index_name: str) -> tuple[list[str], list[str | None]]:
    """The (hash, range) attribute lists ``Table.query`` builds for a GSI query."""
    index = {i.name: i for i in table.all_indexes()}[index_name]
    hash_keys = [k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH"]
    range_keys = [k["AttributeName"] for k in index.schema if k["KeyType"] == "RANGE"]
    hash_attrs = [*hash_keys, table.hash_key_attr]
    if range_keys:
        return hash_attrs, [*range_keys, table.range_key_attr]
    if table.range_key_attr and index in table.global_indexes:
        return hash_attrs, [table.range_key_attr, table.range_key_attr]
    return hash_attrs, [table.hash_key_attr, table.range_key_attr]


def _sort_attributes(table: Table, index_name: str) -> list[str]:
    hash_attrs, range_attrs = _key_attributes(table, index_name)
    return table._generate_attr_to_sort_by(hash_attrs, range_attrs)


def _moto_sort(items: list[Item], attributes: list[str]) -> list[Item] | None:
    """``Table.sorted_items``'s order, or None where moto's sort would fail (a missing key:
    moto then raises, from its own code)."""
    try:
        return sorted(items, key=lambda x: tuple([x.attrs[name] for name in attributes]))
    except (KeyError, TypeError):
        return None


def make_moto_queries_read_one_partition() -> None:
    """Let moto's ``Table.query`` walk only the partition it asks for."""
    if not _first_install("queries"):
        return
    original_query = Table.query
    _install_write_hooks()
    original_all_items = Table.all_items
    signature = inspect.signature(original_query)

    def all_items(self: Table) -> list[Item]:
        narrowed: dict[int, list[Item]] | None = getattr(_narrowed, "tables", None)
        if narrowed is not None and id(self) in narrowed:
            return narrowed[id(self)]
        return original_all_items(self)

    def query(self: Table, *args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        candidates = _query_candidates(self, bound.arguments)
        if candidates is None:
            return original_query(self, *args, **kwargs)
        outer = getattr(_narrowed, "tables", None)
        _narrowed.tables = {**(outer or {}), id(self): candidates}
        try:
            return original_query(self, *args, **kwargs)
        finally:
            _narrowed.tables = outer

    _replace(Table, "all_items", all_items)
    _replace(Table, "query", query)


# ------------------------------------------------------ work repeated per request
def make_moto_requests_skip_repeated_work() -> None:
    """Remember what moto recomputes on every request from inputs that do not change.

    * ``method_names_from_class``: ``inspect.getmembers`` of the response class, to find
      the action to call; the same class has the same methods (wrapping one, as the
      meter does, keeps its name).
    * ``XFormedAttributePicker.get_possible_keys``: the names tried for one member of a
      response shape; they depend on the member's key, its shape and that shape's
      parent, and on the class of the object read (its ``Meta`` aliases and its name).
      An object with a ``Meta`` of its own is never remembered.
    * ``S3Backend._url_module`` re-imports ``moto.s3.urls`` on every S3 request because
      its URL bases come from ``MOTO_S3_CUSTOM_ENDPOINTS``; it is re-imported here when
      that setting changes.
    * SES ``send_raw_email`` parses the whole raw message (a 90 KB PDF attachment) and
      reads only its From, To, Cc and Bcc headers; headers parse the same way alone.
    * ``UpdateExpressionParser.make`` parses the same few update expressions twice per
      UpdateItem; its callers only read the tree (``find_clauses``) or hand it to the
      validator, which works on a deep copy, so one parse per expression serves all.
    """
    if not _first_install("requests"):
        return
    import email.parser

    import moto.core.responses as core_responses
    import moto.core.serialize as serialize
    import moto.ses.models as ses_models
    from moto import settings
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser
    from moto.s3.models import S3Backend

    method_names: dict[type, list[str]] = {}
    original_method_names = core_responses.method_names_from_class

    def method_names_from_class(clazz: type) -> list[str]:
        if clazz not in method_names:
            method_names[clazz] = original_method_names(clazz)
        return list(method_names[clazz])

    _replace(core_responses, "method_names_from_class", method_names_from_class)

    possible_keys: dict[tuple[Any, ...], tuple[tuple[str, ...], Any, Any]] = {}
    original_possible_keys = serialize.XFormedAttributePicker.get_possible_keys

    def get_possible_keys(picker: Any, context: Any) -> Any:
        try:
            own_meta = "Meta" in vars(context.obj)
        except TypeError:  # no __dict__: a dict, a str
            own_meta = False
        if own_meta:
            return original_possible_keys(picker, context)
        shape = context.shape
        parent = getattr(shape, "parent", None)
        key = (type(picker), context.key, id(shape), id(parent), type(context.obj))
        if key not in possible_keys:  # the shapes are kept so their ids stay theirs
            found = tuple(original_possible_keys(picker, context))
            possible_keys[key] = (found, shape, parent)
        return possible_keys[key][0]

    _replace(serialize.XFormedAttributePicker, "get_possible_keys", get_possible_keys)

    url_modules: dict[tuple[str, ...], Any] = {}
    original_url_module = S3Backend._url_module

    def url_module(backend: Any) -> Any:
        endpoints = tuple(settings.get_s3_custom_endpoints())
        if endpoints not in url_modules:
            url_modules.clear()
            url_modules[endpoints] = original_url_module.fget(backend)
        return url_modules[endpoints]

    _replace(S3Backend, "_url_module", property(url_module))

    def message_from_string(text: str) -> Any:
        return email.parser.Parser().parsestr(text, headersonly=True)

    _replace(
        ses_models,
        "email",
        types.SimpleNamespace(message_from_string=message_from_string),
    )

    parse_update = functools.lru_cache(maxsize=4096)(UpdateExpressionParser.make.__func__)
    _replace(
        UpdateExpressionParser,
        "make",
        classmethod(lambda cls, expression: parse_update(cls, expression)),
    )


# ------------------------------------------------------------ DynamoDB updates
#: How many parsed expressions and checked (expression, names, keys) a patch remembers.
_REMEMBERED = 4096


def make_moto_update_validation_skip_repeated_work() -> None:
    """Validate an UpdateItem's expression at the cost of what depends on the request.

    moto's ``UpdateExpressionValidator`` deep-copies the parsed expression and walks the
    copy with ten processors, about 60 % of an UpdateItem (five per invoice). Two parts
    repeat work whose result cannot change:

    * the copy: ``copy.deepcopy`` of the tree takes about four times what unpickling a
      pickle of it does, and the tree is the parse cache's, never changed (see
      ``make_moto_requests_skip_repeated_work``), so its pickle is made once;
    * three processors only check the expression against its names and the table's key
      attributes (too many clauses, overlapping paths, a key attribute updated) and pass
      the tree on unchanged; once they passed for an expression, its names and the
      table's keys, they pass again. The seven that read the values and the item still
      run on every request.
    """
    if not _first_install("update validation"):
        return
    import moto.dynamodb.parsing.validators as validators
    from moto.dynamodb.parsing.ast_nodes import Node

    pickled: dict[int, tuple[Node, bytes]] = {}

    def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
        if memo is not None or not isinstance(value, Node):
            return copy.deepcopy(value, memo)
        entry = pickled.get(id(value))
        if entry is None or entry[0] is not value:  # the tree is held, so its id stays its
            if len(pickled) >= _REMEMBERED:
                pickled.clear()
            entry = pickled[id(value)] = (value, pickle.dumps(value, pickle.HIGHEST_PROTOCOL))
        return pickle.loads(entry[1])

    expression_checks = (
        validators.ActionCountValidator,
        validators.OverlappingPathsValidator,
        validators.UpdateHashRangeKeyValidator,
    )
    passed: dict[tuple[Any, ...], Node] = {}
    stock_validator = validators.UpdateExpressionValidator

    class UpdateExpressionValidator(stock_validator):  # type: ignore[misc, valid-type]
        def __init__(
            self,
            expression: Node,
            expression_attribute_names: dict[str, str],
            expression_attribute_values: dict[str, Any],
            item: Item,
            table: Table,
        ) -> None:
            self.expression = expression
            self.checked_as = (
                id(expression),
                tuple(sorted((expression_attribute_names or {}).items())),
                tuple(table.table_key_attrs),
            )
            super().__init__(
                expression, expression_attribute_names, expression_attribute_values, item, table
            )

        def get_ast_processors(self) -> list[Any]:
            processors = super().get_ast_processors()
            if passed.get(self.checked_as) is not self.expression:
                return processors  # type: ignore[no-any-return]
            return [each for each in processors if not isinstance(each, expression_checks)]

        def validate(self) -> Node:
            validated = super().validate()
            if len(passed) >= _REMEMBERED:
                passed.clear()
            passed[self.checked_as] = self.expression
            return validated

    _replace(validators, "deepcopy", deepcopy)
    _replace(dynamodb_models, "UpdateExpressionValidator", UpdateExpressionValidator)


# ------------------------------------------------------------ DynamoDB item copies
def make_moto_dynamodb_items_untracked() -> None:
    """Let an item moto no longer holds be freed.

    Every moto model appends each instance it makes to its class's ``instances_tracked``,
    kept until ``reset`` for moto server's dashboard. A DynamoDB ``Item`` is made not only
    for what the table stores but for every copy a request takes (the item before an
    update, twice; a query's results and their index projections; the meter's and a
    transaction's undo copies): about 26 per invoice, none ever freed. Local runs grew by
    about 130 KB per invoice, 7 GB by the middle of a 100,000-account run. Nothing in moto
    reads ``Item.instances_tracked`` (S3 closes its tracked keys' files on reset; items
    have none), so items are made without being tracked.
    """
    if not _first_install("dynamodb items untracked"):
        return

    def new_item(cls: type[Item], *args: Any, **kwargs: Any) -> Item:
        return object.__new__(cls)

    _replace(Item, "__new__", new_item)


# ------------------------------------------------------------ DynamoDB answers
#: The operations whose answer is items, already in DynamoDB's JSON wire format.
_ITEM_READS = frozenset({"GetItem", "BatchGetItem", "Query", "Scan"})


def _binary_as_base64(value: Any) -> str:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"{type(value).__name__} in a DynamoDB item answer")


def make_moto_dynamodb_items_answer_as_plain_json() -> None:
    """Serialize item reads with ``json.dumps`` (see the module docstring)."""
    if not _first_install("dynamodb item answers"):
        return
    from moto.dynamodb.responses import DynamoResult

    shape_serialized = DynamoResult.execute_result

    def execute_result(self: DynamoResult, context: Any) -> Any:
        if context.operation_model.name not in _ITEM_READS:
            return shape_serialized(self, context)
        body = json.dumps(self.result, default=_binary_as_base64)
        return 200, {"Content-Type": "application/x-amz-json-1.0"}, body

    _replace(DynamoResult, "execute_result", execute_result)
