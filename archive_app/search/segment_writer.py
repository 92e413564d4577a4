"""A rebuild's segment writer: Whoosh's W3 segment files, without Whoosh's posting pool.

Whoosh's `SegmentWriter` sends every posting through a generic sorting pool (a tuple per
posting, sized, kept, sorted, then read back one by one) and its `W3PostingsWriter` writes
them one call per posting: together about 60 % of a rebuild's CPU, all Python. A rebuild
knows all its documents, so this writer keeps each field's postings in memory by term
(term bytes → [(docnum, weight, value bytes)], in document order, as documents are added),
sorts the terms once and writes each term's W3 blocks whole: the same bytes as Whoosh's
writer (tests/unit/search/test_search_segment_writer.py compares the files), so Whoosh
reads the segment as its own.

Only for the index's schema as it is: no term vectors, no spelling words, no per-block
length statistics (the rebuild's codec has them off, engine._build_writer). A segment holds
at most `engine.SEGMENT_DOCS` entries per writer process, so its postings fit in memory.
"""

from __future__ import annotations

import operator
import zlib
from array import array
from datetime import datetime
from pickle import dumps

from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC, W3TermInfo
from whoosh.fields import DATETIME, ID, KEYWORD, NUMERIC
from whoosh.multiproc import MpWriter, SubWriterTask
from whoosh.system import pack_int, pack_ushort
from whoosh.writing import SegmentWriter

# Fields whose postings are a function of the value alone, which recurs (classes, states,
# dates, years, batches): each distinct value is indexed once per segment.
REPEATED_VALUES = (ID, KEYWORD, NUMERIC, DATETIME)
PICKLE_PROTOCOL = 2  # Whoosh's W3 blocks
EMPTY_LENGTH_BYTE = 0  # whoosh.util.numeric.length_to_byte of None and of 0: no statistics


class DirectSegmentWriter(SegmentWriter):
    """A `SegmentWriter` whose postings go straight from the documents to the W3 files."""

    def __init__(self, ix, codec, **kwargs):
        # Refused before Whoosh's writer opens its files.
        if codec.length_stats:
            raise ValueError("the direct segment writer writes no length statistics")
        extra = [name for name, field in ix.schema.items()
                 if field.vector or field.separate_spelling()]  # fmt: skip
        if extra:
            raise ValueError(f"fields with vectors or spelling words: {extra}")
        super().__init__(ix, codec=codec, **kwargs)
        # field name → term bytes → [(docnum, weight, value bytes)], in document order.
        self._postings = {name: {} for name in self.schema.names()}
        # field name → value → its postings (term bytes, frequency, weight, value bytes).
        self._indexed = {name: {} for name, field in self.schema.items()
                         if type(field) in REPEATED_VALUES}  # fmt: skip

    def add_document(self, **fields):
        # Whoosh's SegmentWriter.add_document, the postings kept by term instead of pooled.
        self._check_state()
        perdocwriter = self.perdocwriter
        schema = self.schema
        docnum = self.docnum
        docboost = self._doc_boost(fields)
        fieldnames = sorted(name for name in fields if not name.startswith("_"))
        self._check_fields(schema, fieldnames)
        perdocwriter.start_doc(docnum)
        try:
            for fieldname in fieldnames:
                value = fields[fieldname]
                if value is None:
                    continue
                field = schema[fieldname]
                length = 0
                if field.indexed:
                    fieldboost = self._field_boost(fields, fieldname, docboost)
                    scorable = field.scorable
                    found = self._postings[fieldname]
                    for tbytes, freq, weight, vbytes in self._index(fieldname, field, value):
                        if scorable:
                            length += freq
                        posting = (docnum, weight * fieldboost, vbytes)
                        postings = found.get(tbytes)
                        if postings is None:
                            found[tbytes] = [posting]
                        else:
                            postings.append(posting)
                stored = fields.get(f"_stored_{fieldname}", value)
                perdocwriter.add_field(fieldname, field, stored if field.stored else None,
                                       length)  # fmt: skip
                column = field.column_type
                if column and stored is not None:
                    perdocwriter.add_column_value(fieldname, column,
                                                  field.to_column_value(stored))  # fmt: skip
        except Exception:
            perdocwriter.cancel_doc()
            raise
        perdocwriter.finish_doc()
        self._added = True
        self.docnum += 1

    def _index(self, fieldname, field, value):
        known = self._indexed.get(fieldname)
        if known is None or not isinstance(value, str | int | datetime):
            return field.index(value)
        items = known.get(value)
        if items is None:
            items = known[value] = list(field.index(value))
        return items

    def _flush_segment(self):
        self.perdocwriter.close()
        writer = self.fieldwriter
        postfile, terms_table = writer._postfile, writer._tindex
        blocklimit, compression = self.codec._blocklimit, self.codec._compression
        for fieldname in sorted(self._postings):
            found = self._postings[fieldname]
            if not found:
                continue
            field = self.schema[fieldname]
            writer.start_field(fieldname, field)  # the field's number in the terms table
            prefix = pack_ushort(writer._fieldid)
            fixed = field.format.fixed_value_size()
            for tbytes in sorted(found):
                offset = postfile.tell()
                data, info = term_postings(found[tbytes], fixed, blocklimit, compression)
                postfile.write(data)
                info.set_extent(offset, len(data))
                terms_table.add(prefix + tbytes, info.to_bytes())
            writer.finish_field()
        self._postings = {}
        writer.close()


def term_postings(postings: list, fixed: int | None, blocklimit: int,
                  compression: int) -> tuple[bytes, W3TermInfo]:  # fmt: skip
    """One term's postings as W3PostingsWriter writes them (its header, then blocks of
    `blocklimit` postings, the last one's length negative) and the term's statistics."""
    info = W3TermInfo()
    info._df = len(postings)
    info._minid, info._maxid = postings[0][0], postings[-1][0]
    total, highest = 0, 0
    parts = [WHOOSH3_HEADER_MAGIC]
    last = len(postings) - 1
    for start in range(0, len(postings), blocklimit):
        ids, raw, values = zip(*postings[start : start + blocklimit], strict=True)
        weights = array("f", raw)  # what Whoosh's writer keeps, and sums
        total += sum(weights)
        top = max(raw)  # its block maximum is of the weights as given
        top = top if top > 0 else 0
        highest = max(highest, top)
        data = dumps((_deltas(ids), _mini_weights(weights), _mini_values(values, fixed)),
                     PICKLE_PROTOCOL)  # fmt: skip
        if compression:
            data = zlib.compress(data, compression)
        head = dumps((len(ids), ids[-1], top, compression, EMPTY_LENGTH_BYTE,
                      EMPTY_LENGTH_BYTE), PICKLE_PROTOCOL)  # fmt: skip
        size = len(head) + len(data)
        parts += (pack_int(-size if start + blocklimit > last else size), head, data)
    info._weight, info._maxweight = total, highest
    return b"".join(parts), info


def _deltas(ids: tuple) -> tuple:
    return tuple(map(operator.sub, ids, (0, *ids[:-1])))


def _mini_weights(weights: array):
    first = weights[0]
    if weights.count(first) == len(weights):
        return None if first == 1.0 else first
    return tuple(weights)


def _mini_values(values: tuple, fixed: int | None):
    values = [value for value in values if value]  # Whoosh keeps only non-empty values
    if fixed is None or fixed < 0:
        return tuple(values)
    if fixed == 0:
        return None
    return b"".join(values)


class _DirectSubWriterTask(SubWriterTask):
    def run(self):
        # SubWriterTask.run (multisegment only) with the direct writer.
        self.writer = DirectSegmentWriter(self.storage.open_index(self.indexname), _lk=False,
                                          **self.kwargs)  # fmt: skip
        while self.running:
            job = self.jobqueue.get()
            if job is None:
                break
            self._process_file(*job)
        if not self.running:
            self.writer.cancel()
            return
        segment = self.writer._finalize_segment()
        self.resultqueue.put((None, set(), segment), timeout=5)


class DirectMpWriter(MpWriter):
    """Whoosh's multiprocess writer, each process a `DirectSegmentWriter` writing a segment
    of its own (multisegment: never merged)."""

    def __init__(self, ix, procs: int, **kwargs):
        super().__init__(ix, procs=procs, multisegment=True, **kwargs)

    def _new_task(self):
        task = _DirectSubWriterTask(self.storage, self.indexname, self.jobqueue,
                                    self.resultqueue, self.subargs, True)  # fmt: skip
        self.tasks.append(task)
        task.start()
        return task
