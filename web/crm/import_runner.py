"""Running an import: the file's rows in batches, each batch all or nothing.

Each batch (``BATCH_ROWS`` rows) is checked whole first: a row with problems is reported
(row number, column, reason) and not written; the valid rows of the batch, their problems and
the job's counters and ``batches_done`` then commit in one transaction. When the database
refuses that transaction (a constraint no check foresaw), nothing of the batch is written:
every row of it is reported failed and the job's message says which rows. A task that died
mid-import runs again from the batch after the last one committed, so no row is imported twice.

New customers are inserted in bulk (one executemany per table, with an ``imported`` history
entry each); a duplicate under the update policy goes through ``CustomerService.save`` so its
history records each field changed.
"""

import dataclasses
import logging

import sqlalchemy as sa
from sqlalchemy.exc import DataError, IntegrityError

from web.crm import fields as custom_fields
from web.crm.errors import CrmError, InvalidCustomer
from web.crm.import_models import DuplicatePolicy, ImportProblem, ImportStatus
from web.crm.import_rows import RowReader, update_data
from web.crm.imports import read_table
from web.crm.models import Customer, CustomerPhone, CustomerTag, CustomValue, HistoryEntry
from web.types import utcnow

logger = logging.getLogger(__name__)

BATCH_ROWS = 500
LOOKUP_CHUNK = 500  # numbers per IN (...) of the duplicate lookup
DEFAULTS = {"name": "", "name_search": "", "gender": "", "birthday": None, "province": "",
            "city": "", "district": "", "street": "", "email": "", "company": "",
            "card_number": None, "source": "", "consent_mail": False, "consent_gifts": False,
            "level": "", "owner_id": None}


def chunks(items, size):
    """``items`` (a list) in lists of ``size``."""
    return [items[start:start + size] for start in range(0, len(items), size)]


@dataclasses.dataclass
class Checked:
    """One row read and checked: its data, the columns of its phones, problems, keys."""

    number: int
    data: dict
    phone_columns: list
    cell_errors: list
    clean: object
    errors: list
    numbers: list
    card: str = None


class BatchFailed(Exception):
    """The database refused a batch's transaction; nothing of it was written."""


class ImportRunner:
    """Imports the file of one CustomerImport job with a CustomerService (ImportRules)."""

    def __init__(self, session, service, job, path, batch_rows=BATCH_ROWS):
        self.session = session
        self.service = service
        self.job = job
        self.path = path
        self.batch_rows = batch_rows
        self.by = job.username

    def run(self):
        """Import every batch not committed yet; the job ends done (or failed: unreadable)."""
        job = self.job
        try:
            table = read_table(self.path, job.format)
            rows = list(table.rows)
        except CrmError as exc:
            self._finish(ImportStatus.FAILED, exc.message)
            return job
        self.reader = RowReader(table.header, job.mapping, self.service.rules.region)
        self.definitions = custom_fields.FieldDefinitions(self.session).active()
        job.status, job.total_rows = ImportStatus.RUNNING.value, len(rows)
        job.encoding = table.encoding or job.encoding
        job.started_at = job.started_at or utcnow()
        self.session.commit()
        for index, batch in enumerate(chunks(rows, self.batch_rows)):
            if index < job.batches_done:
                continue  # committed by an earlier run of this job
            try:
                self._batch(batch)
            except BatchFailed as exc:
                self._batch_failed(batch, exc)
        self._finish(ImportStatus.DONE, job.message)
        return job

    def _finish(self, status, message):
        self.job.status, self.job.message = status.value, message
        self.job.finished_at = utcnow()
        self.session.commit()
        logger.info("import %s %s: %s created, %s updated, %s skipped, %s failed",
                    self.job.id, status.value, self.job.created, self.job.updated,
                    self.job.skipped, self.job.failed)

    # one batch

    def _batch(self, batch):
        self.problems, self.pending = [], []
        self.counts = {"created": 0, "updated": 0, "skipped": 0, "failed": 0}
        self.created_ids = {}  # row number -> id of the customers this batch inserted
        # every row checked first; then one lookup of who holds the batch's numbers and cards
        checked = [self._check(number, cells) for number, cells in batch]
        self.phone_holders, self.card_holders = self._holders(checked)
        try:
            for row in checked:
                self._row(row)
            self._insert_pending()
            self.session.add_all(self.problems)
            job = self.job
            for name, value in self.counts.items():
                setattr(job, name, getattr(job, name) + value)
            job.processed += len(batch)
            job.batches_done += 1
            self.session.commit()
        except (IntegrityError, DataError) as exc:
            self.session.rollback()
            raise BatchFailed(str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc))

    def _batch_failed(self, batch, exc):
        first, last = batch[0][0], batch[-1][0]
        reason = (f"not imported: the database refused the batch of rows {first}-{last} "
                  f"({exc}); nothing of it was written")
        logger.warning("import %s: batch of rows %s-%s refused: %s", self.job.id, first, last,
                       exc)
        job = self.job
        self.session.add_all(ImportProblem(import_id=job.id, row_number=number, column="",
                                           kind="error", reason=reason) for number, _ in batch)
        job.failed += len(batch)
        job.processed += len(batch)
        job.batches_done += 1
        note = f"rows {first}-{last} not imported: {exc}"
        job.message = f"{job.message}; {note}" if job.message else note
        self.session.commit()

    def _check(self, number, cells):
        data, phone_columns, cell_errors = self.reader.read(cells)
        clean, errors = self.service.rules.check(data)
        numbers, card = self.reader.keys(clean)
        return Checked(number, data, phone_columns, cell_errors, clean, errors, numbers, card)

    def _holders(self, checked):
        """Live customers holding the batch's numbers and cards: ({e164: id}, {card: id})."""
        numbers = {e164 for row in checked for e164 in row.numbers}
        cards = {row.card for row in checked if row.card}
        phones, holders = {}, {}
        for part in chunks(sorted(numbers), LOOKUP_CHUNK):
            for e164, customer_id in self.session.execute(
                    sa.select(CustomerPhone.e164, CustomerPhone.customer_id)
                    .join(Customer, Customer.id == CustomerPhone.customer_id)
                    .where(CustomerPhone.e164.in_(part), Customer.deleted_at.is_(None))
                    .order_by(Customer.id)):
                phones.setdefault(e164, customer_id)
        for part in chunks(sorted(cards), LOOKUP_CHUNK):
            # any holder, deleted too: a card number is unique across the table
            holders.update(self.session.execute(
                sa.select(Customer.card_number, Customer.id)
                .where(Customer.card_number.in_(part))).all())
        return phones, holders

    def _problem(self, number, column, reason, kind="error"):
        self.problems.append(ImportProblem(import_id=self.job.id, row_number=number,
                                           column=column[:128], kind=kind, reason=reason))

    def _report(self, number, errors, phone_columns, phone_offset=0):
        for field, message in errors:
            self._problem(number, self.reader.column_of(field, phone_columns, phone_offset),
                          message)
        self.counts["failed"] += 1

    def _row(self, row):
        number, numbers, card, cell_errors = row.number, row.numbers, row.card, row.cell_errors
        holder, why = self._duplicate(numbers, card)
        policy = self.job.policy
        if holder is not None and not cell_errors and policy != DuplicatePolicy.CREATE.value:
            if policy == DuplicatePolicy.SKIP.value:
                self._problem(number, self.reader.columns.get(why[0], ""),
                              f"skipped: {why[1]} is {_who(holder)}'s already", "skipped")
                self.counts["skipped"] += 1
            else:  # checked again as an update by CustomerService.save: a name may be left out
                self._update(number, holder, row.data, row.phone_columns)
            return
        clean, errors, phone_columns = row.clean, list(row.errors), row.phone_columns
        if card and card in self.card_holders:
            errors.append(("card_number", f"card_number: {card} is "
                                          f"{_who(self.card_holders[card])}'s already"))
        if errors or cell_errors:
            for column, reason in cell_errors:
                self._problem(number, column, reason)
            self._report(number, errors, phone_columns)
            return
        self.pending.append((number, clean, numbers))
        for e164 in numbers:
            self.phone_holders.setdefault(e164, ("row", number))
        if card:
            self.card_holders[card] = ("row", number)

    def _duplicate(self, numbers, card):
        """(holder, (target, value)) of the first number or card someone has, else (None, None).

        A holder is a customer id, or ("row", n) for a row of this batch not written yet.
        """
        if card and card in self.card_holders:
            return self.card_holders[card], ("card_number", card)
        for e164 in numbers:
            if e164 in self.phone_holders:
                return self.phone_holders[e164], ("phones", e164)
        return None, None

    def _update(self, number, holder, data, phone_columns):
        if isinstance(holder, tuple):  # a row of this batch: write it first to update it
            self._insert_pending()
            holder = self.created_ids[holder[1]]
        customer = self.service.get(holder)
        offset = len(customer.phones) if data.get("phones") else 0
        try:
            self.service.save(update_data(customer, data), holder, by=self.by, commit=False)
        except InvalidCustomer as exc:
            self._report(number, exc.errors, phone_columns, offset)
            return
        except CrmError as exc:  # a card number of a customer in the bin: not updatable
            self._report(number, [(exc.field or "", exc.message)], phone_columns, offset)
            return
        self.counts["updated"] += 1

    def _insert_pending(self):
        """Insert the batch's new customers in bulk, with phones, tags, custom values and
        an ``imported`` history entry each."""
        if not self.pending:
            return
        now = utcnow()
        rows = [dict(DEFAULTS, **clean.columns, custom=clean.custom or {}, created_by=self.by,
                     created_at=now, updated_at=now) for _, clean, _ in self.pending]
        ids = self.session.execute(
            sa.insert(Customer.__table__).returning(Customer.__table__.c.id,
                                                    sort_by_parameter_order=True),
            rows).scalars().all()
        phones, tags, values, history = [], [], [], []
        for customer_id, (number, clean, numbers) in zip(ids, self.pending):
            self.created_ids[number] = customer_id
            for e164 in numbers:
                if self.phone_holders.get(e164) == ("row", number):
                    self.phone_holders[e164] = customer_id
            if clean.columns.get("card_number"):
                self.card_holders[clean.columns["card_number"]] = customer_id
            for position, (parsed, label) in enumerate(clean.phones or ()):
                phones.append({"customer_id": customer_id, "e164": parsed.e164,
                               "digits": parsed.digits, "kind": parsed.kind, "label": label,
                               "position": position})
            tags.extend({"customer_id": customer_id, "tag": tag} for tag in clean.tags or ())
            for definition in self.definitions:
                for columns in custom_fields.indexed_values(
                        definition, (clean.custom or {}).get(definition.key)):
                    values.append(dict({"text_value": None, "number_value": None,
                                        "date_value": None}, customer_id=customer_id,
                                       field_id=definition.id, **columns))
            history.append({"customer_id": customer_id, "at": now, "username": self.by,
                            "action": "imported", "field": None, "old_value": None,
                            "new_value": f"{self.job.filename} row {number}"})
        for model, items in ((CustomerPhone, phones), (CustomerTag, tags),
                             (CustomValue, values), (HistoryEntry, history)):
            if items:
                self.session.execute(sa.insert(model.__table__), items)
        self.counts["created"] += len(self.pending)
        self.pending = []


def _who(holder):
    return f"row {holder[1]}" if isinstance(holder, tuple) else f"customer {holder}"
