# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""The compiled core: parse and verify a Metamath file on integer symbol ids, in C.

It mirrors `ilya.metamath.database` (parse rules) and `ilya.metamath.verify` (proof checking) rule for
rule, but only decides: a file parses or not, each proof verifies, fails or is incomplete.  The Python
modules stay the reference and write the error messages (`ilya.metamath.fastcheck` re-runs them on what
this core rejects), so both backends give the same verdicts and the same messages; the tests check it.

Speed comes from never making Python objects for tokens: the tokenizer walks the file's bytes, labels and
math symbols are interned in an open-addressing hash table, expressions are int32 runs in pools, and a
proof's stack entries are (start, length) windows of one arena.  Substitution templates (an assertion's
conclusion and hypotheses with each variable replaced by its hypothesis slot) are built once at parse time.
"""

import os

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE
from libc.stdint cimport int32_t, int64_t, uint64_t
from libc.stdlib cimport free, malloc, realloc
from libc.string cimport memchr, memcmp, memcpy, memset


class FastParseError(Exception):
    """The file does not parse; (file name, byte offset, short reason)."""

    def __init__(self, name, offset, reason):
        self.name = name
        self.offset = offset
        self.reason = reason
        super().__init__(f"{name}@{offset}: {reason}")


# ---------------------------------------------------------------------------- growable int32 vector
cdef struct Vec:
    int32_t* d
    Py_ssize_t n
    Py_ssize_t cap


cdef int vec_reserve(Vec* v, Py_ssize_t need) except -1:
    cdef Py_ssize_t cap
    cdef int32_t* p
    if need <= v.cap:
        return 0
    cap = v.cap * 2 if v.cap else 64
    while cap < need:
        cap *= 2
    p = <int32_t*> realloc(v.d, cap * sizeof(int32_t))
    if p == NULL:
        raise MemoryError()
    v.d = p
    v.cap = cap
    return 0


cdef inline int vec_push(Vec* v, int32_t x) except -1:
    if v.n == v.cap:
        vec_reserve(v, v.n + 1)
    v.d[v.n] = x
    v.n += 1
    return 0


cdef inline void vec_free(Vec* v):
    free(v.d)
    v.d = NULL
    v.n = v.cap = 0


# ---------------------------------------------------------------------------- keywords
DEF K_NONE = -1
DEF K_C = 0
DEF K_V = 1
DEF K_F = 2
DEF K_E = 3
DEF K_D = 4
DEF K_A = 5
DEF K_P = 6
DEF K_OPEN = 7
DEF K_CLOSE = 8
DEF K_INC = 9
DEF K_INCEND = 10
DEF K_DOT = 11
DEF K_EQ = 12
DEF K_LP = 13
DEF K_RP = 14

# symbol kinds
DEF S_NONE = 0
DEF S_CONST = 1
DEF S_VAR = 2

# statement kinds
DEF T_F = 0
DEF T_E = 1
DEF T_A = 2
DEF T_P = 3


cdef inline int keyword(const unsigned char* b, Py_ssize_t ts, Py_ssize_t tl) noexcept:
    if tl != 2 or b[ts] != 36:  # '$'
        return K_NONE
    cdef unsigned char c = b[ts + 1]
    if c == 99: return K_C        # c
    if c == 118: return K_V       # v
    if c == 102: return K_F       # f
    if c == 101: return K_E       # e
    if c == 100: return K_D       # d
    if c == 97: return K_A        # a
    if c == 112: return K_P       # p
    if c == 123: return K_OPEN    # {
    if c == 125: return K_CLOSE   # }
    if c == 91: return K_INC      # [
    if c == 93: return K_INCEND   # ]
    if c == 46: return K_DOT      # .
    if c == 61: return K_EQ       # =
    if c == 40: return K_LP       # (
    if c == 41: return K_RP       # )
    return K_NONE


cdef inline bint is_ws(unsigned char c) noexcept:
    return c == 32 or c == 9 or c == 10 or c == 13 or c == 12


cdef inline bint has_dollar(const unsigned char* b, Py_ssize_t ts, Py_ssize_t tl) noexcept:
    cdef Py_ssize_t k
    for k in range(ts, ts + tl):
        if b[k] == 36:
            return True
    return False


cdef inline bint has_pair(const unsigned char* b, Py_ssize_t ts, Py_ssize_t tl, unsigned char c2) noexcept:
    """Whether the token holds '$' followed by ``c2`` ('(' or ')')."""
    cdef Py_ssize_t k
    for k in range(ts, ts + tl - 1):
        if b[k] == 36 and b[k + 1] == c2:
            return True
    return False


cdef inline bint raw_tok(const unsigned char* b, Py_ssize_t* pos, Py_ssize_t end, Py_ssize_t* ts,
                         Py_ssize_t* tl) noexcept:
    """Next white-space separated token in [pos, end), no comment handling."""
    cdef Py_ssize_t p = pos[0]
    while p < end and is_ws(b[p]):
        p += 1
    if p >= end:
        pos[0] = p
        return False
    ts[0] = p
    while p < end and not is_ws(b[p]):
        p += 1
    tl[0] = p - ts[0]
    pos[0] = p
    return True


cdef inline bint proof_tok(const unsigned char* b, Py_ssize_t* pos, Py_ssize_t end, Py_ssize_t* ts,
                           Py_ssize_t* tl) noexcept:
    """Next token of an already checked range, skipping comments."""
    while raw_tok(b, pos, end, ts, tl):
        if tl[0] == 2 and b[ts[0]] == 36 and b[ts[0] + 1] == 40:
            while raw_tok(b, pos, end, ts, tl):
                if tl[0] == 2 and b[ts[0]] == 36 and b[ts[0] + 1] == 41:
                    break
            continue
        return True
    return False


cdef inline bint label_chars(const unsigned char* b, Py_ssize_t ts, Py_ssize_t tl) noexcept:
    cdef Py_ssize_t k
    cdef unsigned char c
    for k in range(ts, ts + tl):
        c = b[k]
        if not ((48 <= c <= 57) or (65 <= c <= 90) or (97 <= c <= 122) or c == 46 or c == 45 or c == 95):
            return False
    return True


cdef struct Stmt:
    int32_t label
    int32_t kind
    int32_t file
    int64_t off
    int32_t expr      # start in expr pool (symbol ids, typecode first)
    int32_t nexpr
    int32_t hyps      # start in ints pool: statement indices of the mandatory hypotheses
    int32_t nhyps
    int32_t tmpl      # start in tmpl pool: the conclusion with variables as -(slot + 1)
    int32_t ntmpl
    int32_t etmpl     # start in ints pool: per hypothesis slot (tmpl start, tmpl length)
    int32_t dv        # start in ints pool: mandatory $d pairs as (slot, slot)
    int32_t ndv
    int32_t adv       # $p: every active $d pair as (symbol, symbol)
    int32_t nadv
    int64_t pstart    # $p: byte range of the proof in its file
    int64_t pend
    int32_t end       # hypothesis: index of the first statement after its scope (-1: never closes)


cdef class Core:
    """One parsed database, ready to verify any of its ``$p`` statements."""

    cdef list bufs
    cdef list names
    cdef set seen
    # symbol table
    cdef char* names_arena
    cdef Py_ssize_t arena_n, arena_cap
    cdef Vec sym_off, sym_len, sym_kind, sym_label, sym_active, sym_float, sym_mark, sym_slot
    cdef int32_t* table
    cdef uint64_t* table_hash
    cdef Py_ssize_t table_cap, nsyms
    # statements and pools
    cdef Stmt* stmts
    cdef Py_ssize_t nstmts, stmts_cap
    cdef Vec exprs, ints, tmpls
    # scope state
    cdef Vec act_hyps, act_ess, act_dvs, scope_vars, scope_floats, scope_stack, mvars, cand
    cdef int32_t stamp
    cdef int32_t max_hyps
    # tokenizer state
    cdef const unsigned char* b
    cdef Py_ssize_t pos, n
    cdef int32_t fidx
    # verification scratch
    cdef Vec arena, st_start, st_len, sv_start, sv_len, table_st
    cdef int32_t* sub_s
    cdef int32_t* sub_l

    def __cinit__(self):
        self.bufs = []
        self.names = []
        self.seen = set()
        self.names_arena = NULL
        self.arena_n = self.arena_cap = 0
        self.table = NULL
        self.table_hash = NULL
        self.table_cap = 0
        self.nsyms = 0
        self.stmts = NULL
        self.nstmts = self.stmts_cap = 0
        self.stamp = 0
        self.max_hyps = 0
        self.sub_s = NULL
        self.sub_l = NULL
        memset(&self.sym_off, 0, sizeof(Vec))
        memset(&self.sym_len, 0, sizeof(Vec))
        memset(&self.sym_kind, 0, sizeof(Vec))
        memset(&self.sym_label, 0, sizeof(Vec))
        memset(&self.sym_active, 0, sizeof(Vec))
        memset(&self.sym_float, 0, sizeof(Vec))
        memset(&self.sym_mark, 0, sizeof(Vec))
        memset(&self.sym_slot, 0, sizeof(Vec))
        memset(&self.exprs, 0, sizeof(Vec))
        memset(&self.ints, 0, sizeof(Vec))
        memset(&self.tmpls, 0, sizeof(Vec))
        memset(&self.act_hyps, 0, sizeof(Vec))
        memset(&self.act_ess, 0, sizeof(Vec))
        memset(&self.act_dvs, 0, sizeof(Vec))
        memset(&self.scope_vars, 0, sizeof(Vec))
        memset(&self.scope_floats, 0, sizeof(Vec))
        memset(&self.scope_stack, 0, sizeof(Vec))
        memset(&self.mvars, 0, sizeof(Vec))
        memset(&self.cand, 0, sizeof(Vec))
        memset(&self.arena, 0, sizeof(Vec))
        memset(&self.st_start, 0, sizeof(Vec))
        memset(&self.st_len, 0, sizeof(Vec))
        memset(&self.sv_start, 0, sizeof(Vec))
        memset(&self.sv_len, 0, sizeof(Vec))
        memset(&self.table_st, 0, sizeof(Vec))

    def __dealloc__(self):
        free(self.names_arena)
        free(self.table)
        free(self.table_hash)
        free(self.stmts)
        free(self.sub_s)
        free(self.sub_l)
        vec_free(&self.sym_off); vec_free(&self.sym_len); vec_free(&self.sym_kind)
        vec_free(&self.sym_label); vec_free(&self.sym_active); vec_free(&self.sym_float)
        vec_free(&self.sym_mark); vec_free(&self.sym_slot); vec_free(&self.exprs); vec_free(&self.ints)
        vec_free(&self.tmpls); vec_free(&self.act_hyps); vec_free(&self.act_ess); vec_free(&self.act_dvs)
        vec_free(&self.scope_vars); vec_free(&self.scope_floats); vec_free(&self.scope_stack)
        vec_free(&self.mvars); vec_free(&self.cand)
        vec_free(&self.arena); vec_free(&self.st_start); vec_free(&self.st_len); vec_free(&self.sv_start)
        vec_free(&self.sv_len); vec_free(&self.table_st)

    # ------------------------------------------------------------------ errors
    cdef int fail(self, Py_ssize_t off, str reason) except -1:
        raise FastParseError(self.names[self.fidx], off, reason)

    # ------------------------------------------------------------------ symbol table
    cdef inline uint64_t fnv(self, const unsigned char* s, Py_ssize_t l) noexcept:
        """Hash of a token: 8 bytes at a time, multiply-xorshift mixing (low bits index the table)."""
        cdef uint64_t h = 0x9E3779B97F4A7C15ULL ^ <uint64_t> l
        cdef uint64_t w
        cdef Py_ssize_t k
        while l >= 8:
            memcpy(&w, s, 8)
            h = (h ^ w) * 0xff51afd7ed558ccdULL
            h ^= h >> 32
            s += 8
            l -= 8
        w = 0
        for k in range(l):
            w |= (<uint64_t> s[k]) << (8 * k)
        h = (h ^ w) * 0xc4ceb9fe1a85ec53ULL
        h ^= h >> 29
        h *= 0x94d049bb133111ebULL
        h ^= h >> 31
        return h | 1

    cdef int grow_table(self) except -1:
        cdef Py_ssize_t cap = self.table_cap * 2 if self.table_cap else 1 << 16
        cdef int32_t* t = <int32_t*> malloc(cap * sizeof(int32_t))
        cdef uint64_t* th = <uint64_t*> malloc(cap * sizeof(uint64_t))
        cdef Py_ssize_t k, j
        if t == NULL or th == NULL:
            raise MemoryError()
        for k in range(cap):
            t[k] = -1
            th[k] = 0
        for k in range(self.table_cap):
            if self.table[k] >= 0:
                j = self.table_hash[k] & (cap - 1)
                while t[j] >= 0:
                    j = (j + 1) & (cap - 1)
                t[j] = self.table[k]
                th[j] = self.table_hash[k]
        free(self.table)
        free(self.table_hash)
        self.table = t
        self.table_hash = th
        self.table_cap = cap
        return 0

    cdef int32_t lookup(self, const unsigned char* s, Py_ssize_t l) noexcept:
        """Symbol id of a token, or -1."""
        if self.table_cap == 0:
            return -1
        cdef uint64_t h = self.fnv(s, l)
        cdef Py_ssize_t j = h & (self.table_cap - 1)
        cdef int32_t idx
        while True:
            idx = self.table[j]
            if idx < 0:
                return -1
            if self.table_hash[j] == h and self.sym_len.d[idx] == l and \
                    memcmp(self.names_arena + self.sym_off.d[idx], s, l) == 0:
                return idx
            j = (j + 1) & (self.table_cap - 1)

    cdef int32_t intern(self, const unsigned char* s, Py_ssize_t l) except -2:
        cdef int32_t idx = self.lookup(s, l)
        cdef uint64_t h
        cdef Py_ssize_t j
        cdef char* p
        if idx >= 0:
            return idx
        if (self.nsyms + 1) * 2 > self.table_cap:
            self.grow_table()
        if self.arena_n + l > self.arena_cap:
            self.arena_cap = max(self.arena_cap * 2, self.arena_n + l + (1 << 16))
            p = <char*> realloc(self.names_arena, self.arena_cap)
            if p == NULL:
                raise MemoryError()
            self.names_arena = p
        memcpy(self.names_arena + self.arena_n, s, l)
        idx = <int32_t> self.nsyms
        self.nsyms += 1
        vec_push(&self.sym_off, <int32_t> self.arena_n)
        vec_push(&self.sym_len, <int32_t> l)
        vec_push(&self.sym_kind, S_NONE)
        vec_push(&self.sym_label, -1)
        vec_push(&self.sym_active, 0)
        vec_push(&self.sym_float, -1)
        vec_push(&self.sym_mark, 0)
        vec_push(&self.sym_slot, 0)
        self.arena_n += l
        h = self.fnv(s, l)
        j = h & (self.table_cap - 1)
        while self.table[j] >= 0:
            j = (j + 1) & (self.table_cap - 1)
        self.table[j] = idx
        self.table_hash[j] = h
        return idx

    cdef str sym_name(self, int32_t idx):
        return self.names_arena[self.sym_off.d[idx]:self.sym_off.d[idx] + self.sym_len.d[idx]].decode("ascii")

    # ------------------------------------------------------------------ tokenizer (parse time)
    cdef int next_tok(self, Py_ssize_t* ts, Py_ssize_t* tl) except -1:
        """Next token outside comments; 0 at the end of the file. Checks the comment rules."""
        cdef const unsigned char* b = self.b
        while True:
            if not raw_tok(b, &self.pos, self.n, ts, tl):
                return 0
            if not has_pair(b, ts[0], tl[0], 40):  # no '$(' in it
                return 1
            if tl[0] != 2:
                self.fail(ts[0], "'$(' must be a token of its own")
            self.skip_comment(ts[0])

    cdef inline bint delimited(self, Py_ssize_t k) noexcept:
        """Whether the 2-character token candidate at k has white space (or a file edge) around it."""
        return (k == 0 or is_ws(self.b[k - 1])) and (k + 2 >= self.n or is_ws(self.b[k + 2]))

    cdef int skip_comment(self, Py_ssize_t start) except -1:
        """Move past the comment opened by the '$(' at ``start``: the first '$)' must be a token of its
        own and no '$(' may come before it (the rules `Source._chunks` applies)."""
        cdef const unsigned char* b = self.b
        cdef Py_ssize_t p = start + 2, k
        cdef const unsigned char* q
        while True:
            q = <const unsigned char*> memchr(b + p, 36, self.n - p) if p < self.n else NULL
            if q == NULL:
                self.fail(start, "comment never closed")
            k = q - b
            if k + 1 < self.n and b[k + 1] == 40:
                self.fail(k, "'$(' inside a comment")
            if k + 1 < self.n and b[k + 1] == 41:
                if not self.delimited(k):
                    self.fail(k, "'$)' inside a comment must be a token of its own")
                self.pos = k + 2
                return 0
            p = k + 1

    cdef int skip_proof(self, Py_ssize_t start, Py_ssize_t* pend, Py_ssize_t* nonempty) except -1:
        """From just after '$=', find the closing '$.' (skipping comments); any other '$' token is an
        error.  ``nonempty`` tells whether the proof has a token."""
        cdef const unsigned char* b = self.b
        cdef Py_ssize_t p = self.pos, k, j
        cdef const unsigned char* q
        while True:
            q = <const unsigned char*> memchr(b + p, 36, self.n - p) if p < self.n else NULL
            if q == NULL:
                self.fail(start, "statement never closed by '$.'")
            k = q - b
            if not nonempty[0]:
                for j in range(p, k):
                    if not is_ws(b[j]):
                        nonempty[0] = 1
                        break
            if k + 1 < self.n and self.delimited(k) and b[k + 1] == 46:  # '$.'
                pend[0] = k
                self.pos = k + 2
                return 0
            if k + 1 < self.n and self.delimited(k) and b[k + 1] == 40:  # '$(' comment
                self.skip_comment(k)
                p = self.pos
                continue
            self.fail(k, "unexpected '$' token in a proof")

    # ------------------------------------------------------------------ parsing
    def parse(self, path):
        """Parse a file (and its includes); raise `FastParseError` on the first error."""
        cdef Py_ssize_t k
        self.parse_file(os.fspath(path), os.fspath(path), -1)
        if self.scope_stack.n:
            self.fidx = 0
            self.fail(PyBytes_GET_SIZE(self.bufs[0]), "file ends inside a scope")
        self.max_hyps = 1
        for k in range(self.nstmts):
            if self.stmts[k].nhyps > self.max_hyps:
                self.max_hyps = self.stmts[k].nhyps
        self.sub_s = <int32_t*> malloc(self.max_hyps * sizeof(int32_t))
        self.sub_l = <int32_t*> malloc(self.max_hyps * sizeof(int32_t))

    cdef int parse_file(self, str path, str name, Py_ssize_t at) except -1:
        key = os.path.realpath(path)
        if key in self.seen:
            return 0
        self.seen.add(key)
        if at >= 0 and not os.path.exists(path):
            self.fail(at, "included file does not exist")
        try:
            with open(path, "rb") as fh:
                data = fh.read()
        except OSError as e:
            if at >= 0:
                self.fail(at, "cannot read included file")
            raise FastParseError(name, 0, f"cannot read file ({e})") from None
        # saved tokenizer state (an include switches files)
        cdef const unsigned char* ob = self.b
        cdef Py_ssize_t opos = self.pos, on = self.n
        cdef int32_t ofidx = self.fidx
        self.bufs.append(data)
        self.names.append(name)
        self.fidx = len(self.bufs) - 1
        self.b = <const unsigned char*> PyBytes_AS_STRING(data)
        self.n = PyBytes_GET_SIZE(data)
        self.pos = 0
        cdef Py_ssize_t k
        cdef unsigned char c, bad = 0
        cdef unsigned char table[256]
        for k in range(256):  # 1 for a byte outside printable ASCII and white space
            table[k] = 0 if (33 <= k <= 126 or is_ws(<unsigned char> k)) else 1
        for k in range(self.n):  # branch-free first pass; locate only if something is wrong
            bad |= table[self.b[k]]
        if bad:
            for k in range(self.n):
                if table[self.b[k]]:
                    self.fail(k, "illegal character")
        self.parse_tokens()
        self.b = ob
        self.pos = opos
        self.n = on
        self.fidx = ofidx
        return 0

    cdef int parse_tokens(self) except -1:
        cdef Py_ssize_t ts = 0, tl = 0, start, lab_ts
        cdef int kw
        cdef int32_t label, sid
        cdef Vec body
        memset(&body, 0, sizeof(Vec))
        try:
            while self.next_tok(&ts, &tl):
                kw = keyword(self.b, ts, tl)
                label = -1
                start = ts
                if self.b[ts] != 36:
                    if not label_chars(self.b, ts, tl):
                        self.fail(ts, "bad label")
                    label = self.intern(self.b + ts, tl)
                    if not self.next_tok(&ts, &tl):
                        self.fail(start, "label at end of file")
                    kw = keyword(self.b, ts, tl)
                    if not (kw == K_F or kw == K_E or kw == K_A or kw == K_P):
                        self.fail(ts, "expected $f $e $a $p after a label")
                    if self.sym_label.d[label] >= 0:
                        self.fail(start, "label used twice")
                    if self.sym_kind.d[label] != S_NONE:
                        self.fail(start, "label is a math symbol")
                if kw == K_NONE:
                    self.fail(ts, "unknown keyword")
                if label < 0 and (kw == K_F or kw == K_E or kw == K_A or kw == K_P):
                    self.fail(ts, "statement without a label")
                if kw == K_OPEN:
                    vec_push(&self.scope_stack, <int32_t> self.act_hyps.n)
                    vec_push(&self.scope_stack, <int32_t> self.act_ess.n)
                    vec_push(&self.scope_stack, <int32_t> self.act_dvs.n)
                    vec_push(&self.scope_stack, <int32_t> self.scope_vars.n)
                    vec_push(&self.scope_stack, <int32_t> self.scope_floats.n)
                    continue
                if kw == K_CLOSE:
                    if self.scope_stack.n == 0:
                        self.fail(ts, "'$}' without '${'")
                    self.close_scope()
                    continue
                if kw == K_INC:
                    self.do_include(ts)
                    continue
                if kw == K_DOT or kw == K_EQ or kw == K_INCEND or kw == K_RP or kw == K_LP:
                    self.fail(ts, "unexpected keyword")
                self.statement(kw, label, start, ts, &body)
        finally:
            vec_free(&body)
        return 0

    cdef int close_scope(self) except -1:
        cdef Vec* s = &self.scope_stack
        cdef int32_t h0 = s.d[s.n - 5], e0 = s.d[s.n - 4], d0 = s.d[s.n - 3]
        cdef int32_t v0 = s.d[s.n - 2], f0 = s.d[s.n - 1]
        cdef Py_ssize_t k
        s.n -= 5
        for k in range(h0, self.act_hyps.n):
            self.stmts[self.act_hyps.d[k]].end = <int32_t> self.nstmts
        self.act_hyps.n = h0
        self.act_ess.n = e0
        self.act_dvs.n = d0
        for k in range(v0, self.scope_vars.n):
            self.sym_active.d[self.scope_vars.d[k]] = 0
        self.scope_vars.n = v0
        for k in range(f0, self.scope_floats.n):
            self.sym_float.d[self.scope_floats.d[k]] = -1
        self.scope_floats.n = f0
        return 0

    cdef int do_include(self, Py_ssize_t at) except -1:
        cdef Py_ssize_t ts = 0, tl = 0, fs, fl
        if self.scope_stack.n:
            self.fail(at, "include inside a scope")
        if not self.next_tok(&ts, &tl):
            self.fail(at, "bad include")
        fs, fl = ts, tl
        if not self.next_tok(&ts, &tl) or keyword(self.b, ts, tl) != K_INCEND:
            self.fail(at, "bad include")
        fname = (<bytes> self.b[fs:fs + fl]).decode("ascii")
        here = self.names[self.fidx]
        base = os.path.dirname(self.paths_of(self.fidx))
        self.parse_file(os.path.join(base, fname), os.path.join(os.path.dirname(here), fname), fs)
        return 0

    cdef str paths_of(self, int32_t f):
        return self.names[f]

    cdef Stmt* new_stmt(self, int32_t label, int kind, Py_ssize_t off) except NULL:
        cdef Stmt* p
        if self.nstmts == self.stmts_cap:
            self.stmts_cap = self.stmts_cap * 2 if self.stmts_cap else 1024
            p = <Stmt*> realloc(self.stmts, self.stmts_cap * sizeof(Stmt))
            if p == NULL:
                raise MemoryError()
            self.stmts = p
        p = &self.stmts[self.nstmts]
        memset(p, 0, sizeof(Stmt))
        p.label = label
        p.kind = kind
        p.file = self.fidx
        p.off = off
        p.end = -1
        p.pstart = p.pend = -1
        self.sym_label.d[label] = <int32_t> self.nstmts
        self.nstmts += 1
        return p

    cdef int statement(self, int kw, int32_t label, Py_ssize_t start, Py_ssize_t kwpos, Vec* body) except -1:
        cdef Py_ssize_t ts = 0, tl = 0, pstart = -1, pend = -1
        cdef int32_t sid, s, k
        cdef int kk
        cdef bint in_proof = False
        cdef Py_ssize_t nproof = 0
        body.n = 0
        # gather the body up to '$.': symbols are interned ($c/$v) or looked up
        while True:
            if not self.next_tok(&ts, &tl):
                self.fail(start, "statement never closed by '$.'")
            if has_dollar(self.b, ts, tl):
                kk = keyword(self.b, ts, tl)
                if kk == K_DOT:
                    break
                if kk == K_EQ and kw == K_P and not in_proof:
                    in_proof = True
                    pstart = self.pos
                    self.skip_proof(start, &pend, &nproof)
                    break
                self.fail(ts, "unexpected '$' token in a statement")
            if kw == K_C or kw == K_V:
                s = self.intern(self.b + ts, tl)
            else:
                s = self.lookup(self.b + ts, tl)
                if s < 0:
                    self.fail(ts, "undeclared math symbol")
            vec_push(body, s)
        if not in_proof:
            pend = ts
        if kw == K_C:
            return self.declare_consts(kwpos, body)
        if kw == K_V:
            return self.declare_vars(kwpos, body)
        if kw == K_D:
            return self.add_dv(kwpos, body)
        if kw == K_F:
            return self.add_float(label, start, body)
        if kw == K_P:
            if not in_proof:
                self.fail(start, "$p without a proof")
            if nproof == 0:
                self.fail(start, "empty proof")
        return self.add_statement(label, kw, start, body, pstart, pend)

    cdef int declare_consts(self, Py_ssize_t at, Vec* body) except -1:
        cdef Py_ssize_t k
        cdef int32_t s
        if self.scope_stack.n:
            self.fail(at, "$c inside a scope")
        if body.n == 0:
            self.fail(at, "empty $c")
        for k in range(body.n):
            s = body.d[k]
            if self.sym_kind.d[s] != S_NONE:
                self.fail(at, "symbol declared twice / variable as constant")
            if self.sym_label.d[s] >= 0:
                self.fail(at, "math symbol is a label")
            self.sym_kind.d[s] = S_CONST
        return 0

    cdef int declare_vars(self, Py_ssize_t at, Vec* body) except -1:
        cdef Py_ssize_t k
        cdef int32_t s
        if body.n == 0:
            self.fail(at, "empty $v")
        for k in range(body.n):
            s = body.d[k]
            if self.sym_kind.d[s] == S_CONST:
                self.fail(at, "constant declared as a variable")
            if self.sym_active.d[s]:
                self.fail(at, "variable declared twice in scope")
            if self.sym_label.d[s] >= 0:
                self.fail(at, "math symbol is a label")
            self.sym_kind.d[s] = S_VAR
            self.sym_active.d[s] = 1
            if self.scope_stack.n:
                vec_push(&self.scope_vars, s)
        return 0

    cdef int add_dv(self, Py_ssize_t at, Vec* body) except -1:
        cdef Py_ssize_t a, c
        cdef int32_t x, y
        for a in range(body.n):
            x = body.d[a]
            if self.sym_kind.d[x] != S_VAR or not self.sym_active.d[x]:
                self.fail(at, "$d of a non-variable")
        if body.n < 2:
            self.fail(at, "$d needs two variables")
        for a in range(body.n):
            for c in range(a + 1, body.n):
                if body.d[a] == body.d[c]:
                    self.fail(at, "variable twice in a $d")
        for a in range(body.n):
            for c in range(a + 1, body.n):
                x = body.d[a]
                y = body.d[c]
                vec_push(&self.act_dvs, x)
                vec_push(&self.act_dvs, y)
        return 0

    cdef bint is_active_sym(self, int32_t s) noexcept:
        return self.sym_kind.d[s] == S_CONST or (self.sym_kind.d[s] == S_VAR and self.sym_active.d[s])

    cdef int add_float(self, int32_t label, Py_ssize_t start, Vec* body) except -1:
        cdef Stmt* st
        cdef int32_t tc, v
        if body.n != 2:
            self.fail(start, "$f needs a typecode and a variable")
        tc = body.d[0]
        v = body.d[1]
        if self.sym_kind.d[tc] != S_CONST:
            self.fail(start, "$f typecode is not a constant")
        if self.sym_kind.d[v] != S_VAR or not self.sym_active.d[v]:
            self.fail(start, "$f of an inactive variable")
        if self.sym_float.d[v] >= 0:
            self.fail(start, "variable with two active $f")
        st = self.new_stmt(label, T_F, start)
        st.expr = <int32_t> self.exprs.n
        st.nexpr = 2
        vec_push(&self.exprs, tc)
        vec_push(&self.exprs, v)
        self.sym_float.d[v] = <int32_t> (self.nstmts - 1)
        vec_push(&self.act_hyps, <int32_t> (self.nstmts - 1))
        if self.scope_stack.n:
            vec_push(&self.scope_floats, v)
        return 0

    cdef int add_statement(self, int32_t label, int kw, Py_ssize_t start, Vec* body, Py_ssize_t pstart,
                           Py_ssize_t pend) except -1:
        cdef Py_ssize_t k, j
        cdef int32_t s, h, sid, e0
        cdef Stmt* st
        cdef Stmt* hs
        if body.n == 0:
            self.fail(start, "statement needs a typecode")
        if self.sym_kind.d[body.d[0]] != S_CONST:
            self.fail(start, "typecode is not a constant")
        for k in range(body.n):
            if not self.is_active_sym(body.d[k]):
                self.fail(start, "inactive or undeclared math symbol")
        sid = <int32_t> self.nstmts
        st = self.new_stmt(label, T_E if kw == K_E else (T_A if kw == K_A else T_P), start)
        st.expr = <int32_t> self.exprs.n
        st.nexpr = <int32_t> body.n
        vec_reserve(&self.exprs, self.exprs.n + body.n)
        memcpy(self.exprs.d + self.exprs.n, body.d, body.n * sizeof(int32_t))
        self.exprs.n += body.n
        if kw == K_E:
            vec_push(&self.act_hyps, sid)
            vec_push(&self.act_ess, sid)
            return 0
        # mandatory variables: those of the statement and of the active $e's
        self.stamp += 1
        self.mvars.n = 0
        for k in range(body.n):
            s = body.d[k]
            if self.sym_kind.d[s] == S_VAR and self.sym_mark.d[s] != self.stamp:
                self.sym_mark.d[s] = self.stamp
                vec_push(&self.mvars, s)
        for j in range(self.act_ess.n):
            hs = &self.stmts[self.act_ess.d[j]]
            for k in range(hs.nexpr):
                s = self.exprs.d[hs.expr + k]
                if self.sym_kind.d[s] == S_VAR and self.sym_mark.d[s] != self.stamp:
                    self.sym_mark.d[s] = self.stamp
                    vec_push(&self.mvars, s)
        # mandatory hypotheses: the active $e's and the active $f of each mandatory variable, in order
        self.cand.n = 0
        for j in range(self.act_ess.n):
            vec_push(&self.cand, self.act_ess.d[j])
        for j in range(self.mvars.n):
            h = self.sym_float.d[self.mvars.d[j]]
            if h < 0:
                self.fail(start, "variable without an active $f")
            vec_push(&self.cand, h)
        for j in range(1, self.cand.n):  # insertion sort (a handful of hypotheses)
            h = self.cand.d[j]
            k = j - 1
            while k >= 0 and self.cand.d[k] > h:
                self.cand.d[k + 1] = self.cand.d[k]
                k -= 1
            self.cand.d[k + 1] = h
        st = &self.stmts[sid]
        st.hyps = <int32_t> self.ints.n
        for j in range(self.cand.n):
            h = self.cand.d[j]
            hs = &self.stmts[h]
            if hs.kind == T_F:
                self.sym_slot.d[self.exprs.d[hs.expr + 1]] = <int32_t> j
            vec_push(&self.ints, h)
        st = &self.stmts[sid]
        st.nhyps = <int32_t> (self.ints.n - st.hyps)
        # conclusion template
        st.tmpl = <int32_t> self.tmpls.n
        for k in range(body.n):
            s = body.d[k]
            vec_push(&self.tmpls, -(self.sym_slot.d[s] + 1) if self.sym_kind.d[s] == S_VAR else s)
        st = &self.stmts[sid]
        st.ntmpl = <int32_t> (self.tmpls.n - st.tmpl)
        # hypothesis templates: (start, length) per slot
        st.etmpl = <int32_t> self.ints.n
        for j in range(st.nhyps):
            vec_push(&self.ints, 0)
            vec_push(&self.ints, 0)
        st = &self.stmts[sid]
        for j in range(st.nhyps):
            hs = &self.stmts[self.ints.d[st.hyps + j]]
            e0 = <int32_t> self.tmpls.n
            if hs.kind == T_E:
                for k in range(hs.nexpr):
                    s = self.exprs.d[hs.expr + k]
                    vec_push(&self.tmpls, -(self.sym_slot.d[s] + 1) if self.sym_kind.d[s] == S_VAR else s)
            st = &self.stmts[sid]
            self.ints.d[st.etmpl + 2 * j] = e0
            self.ints.d[st.etmpl + 2 * j + 1] = <int32_t> (self.tmpls.n - e0)
        # mandatory $d pairs as slot pairs
        st.dv = <int32_t> self.ints.n
        for j in range(0, self.act_dvs.n, 2):
            s = self.act_dvs.d[j]
            h = self.act_dvs.d[j + 1]
            if self.sym_mark.d[s] == self.stamp and self.sym_mark.d[h] == self.stamp:
                vec_push(&self.ints, self.sym_slot.d[s])
                vec_push(&self.ints, self.sym_slot.d[h])
        st = &self.stmts[sid]
        st.ndv = <int32_t> ((self.ints.n - st.dv) // 2)
        if kw == K_P:
            st.adv = <int32_t> self.ints.n
            for j in range(self.act_dvs.n):
                vec_push(&self.ints, self.act_dvs.d[j])
            st = &self.stmts[sid]
            st.nadv = <int32_t> ((self.ints.n - st.adv) // 2)
            st.pstart = pstart
            st.pend = pend
        return 0

    # ------------------------------------------------------------------ Python-facing queries
    def theorems(self):
        """Statement indices of every $p, in order."""
        return [k for k in range(self.nstmts) if self.stmts[k].kind == T_P]

    def index_of(self, str label):
        cdef bytes b = label.encode("ascii", "replace")
        cdef int32_t s = self.lookup(<const unsigned char*> PyBytes_AS_STRING(b), len(b))
        if s < 0:
            return -1
        return self.sym_label.d[s]

    def label_of(self, Py_ssize_t k):
        return self.sym_name(self.stmts[k].label)

    def kind_of(self, Py_ssize_t k):
        return "feap"[self.stmts[k].kind]

    def __len__(self):
        return self.nstmts

    # ------------------------------------------------------------------ verification
    def verify(self, indices):
        """Verify the $p statements at ``indices``; return (failed indices, incomplete indices)."""
        fails, incomplete = [], []
        cdef int r
        cdef Py_ssize_t k
        for k in indices:
            r = self.verify_one(k)
            if r == 1:
                fails.append(k)
            elif r == 2:
                incomplete.append(k)
        return fails, incomplete

    cdef inline int push_entry(self, int32_t start, int32_t length) except -1:
        vec_push(&self.st_start, start)
        vec_push(&self.st_len, length)
        return 0

    cdef int push_hyp(self, Stmt* h) except -1:
        cdef int32_t a0 = <int32_t> self.arena.n
        vec_reserve(&self.arena, self.arena.n + h.nexpr)
        memcpy(self.arena.d + self.arena.n, self.exprs.d + h.expr, h.nexpr * sizeof(int32_t))
        self.arena.n += h.nexpr
        return self.push_entry(a0, h.nexpr)

    cdef bint active_for(self, int32_t sid, int32_t thm) noexcept:
        cdef Stmt* s = &self.stmts[sid]
        if s.kind == T_A or s.kind == T_P:
            return sid < thm
        return sid < thm and (s.end < 0 or thm < s.end)

    cdef int step(self, int32_t sid, int32_t thm) except -2:
        """Apply statement ``sid`` in the proof of ``thm``: 0 ok, 1 proof error."""
        cdef Stmt* a = &self.stmts[sid]
        cdef Stmt* h
        cdef Stmt* t
        cdef Py_ssize_t n, base, k, j, p, q, pe, r0, total
        cdef int32_t x, l, e0, el, va, vb, s1, s2, ks, kl
        cdef bint unknown = False, found
        cdef int32_t* ar
        if a.kind == T_F or a.kind == T_E:
            return self.push_hyp(a)
        n = a.nhyps
        if self.st_start.n < n:
            return 1
        base = self.st_start.n - n
        for k in range(n):
            if self.st_len.d[base + k] < 0:
                unknown = True
                continue
            h = &self.stmts[self.ints.d[a.hyps + k]]
            if h.kind == T_F:
                if self.arena.d[self.st_start.d[base + k]] != self.exprs.d[h.expr]:
                    return 1
                self.sub_s[k] = self.st_start.d[base + k] + 1
                self.sub_l[k] = self.st_len.d[base + k] - 1
        if unknown:
            self.st_start.n = base
            self.st_len.n = base
            return self.push_entry(0, -1)
        ar = self.arena.d
        # $e hypotheses against their substituted templates
        for k in range(n):
            h = &self.stmts[self.ints.d[a.hyps + k]]
            if h.kind != T_E:
                continue
            e0 = self.ints.d[a.etmpl + 2 * k]
            el = self.ints.d[a.etmpl + 2 * k + 1]
            p = self.st_start.d[base + k]
            pe = p + self.st_len.d[base + k]
            for j in range(e0, e0 + el):
                x = self.tmpls.d[j]
                if x >= 0:
                    if p >= pe or ar[p] != x:
                        return 1
                    p += 1
                else:
                    l = self.sub_l[-x - 1]
                    if p + l > pe or memcmp(ar + p, ar + self.sub_s[-x - 1], l * sizeof(int32_t)) != 0:
                        return 1
                    p += l
            if p != pe:
                return 1
        # disjoint variables
        t = &self.stmts[thm]
        for k in range(a.ndv):
            s1 = self.ints.d[a.dv + 2 * k]
            s2 = self.ints.d[a.dv + 2 * k + 1]
            for p in range(self.sub_s[s1], self.sub_s[s1] + self.sub_l[s1]):
                va = ar[p]
                if self.sym_kind.d[va] != S_VAR:
                    continue
                for q in range(self.sub_s[s2], self.sub_s[s2] + self.sub_l[s2]):
                    vb = ar[q]
                    if self.sym_kind.d[vb] != S_VAR:
                        continue
                    if va == vb:
                        return 1
                    found = False
                    for j in range(t.nadv):
                        x = self.ints.d[t.adv + 2 * j]
                        l = self.ints.d[t.adv + 2 * j + 1]
                        if (x == va and l == vb) or (x == vb and l == va):
                            found = True
                            break
                    if not found:
                        return 1
        # the substituted conclusion
        total = 0
        for j in range(a.tmpl, a.tmpl + a.ntmpl):
            x = self.tmpls.d[j]
            total += 1 if x >= 0 else self.sub_l[-x - 1]
        vec_reserve(&self.arena, self.arena.n + total)
        ar = self.arena.d
        r0 = self.arena.n
        p = r0
        for j in range(a.tmpl, a.tmpl + a.ntmpl):
            x = self.tmpls.d[j]
            if x >= 0:
                ar[p] = x
                p += 1
            else:
                l = self.sub_l[-x - 1]
                memcpy(ar + p, ar + self.sub_s[-x - 1], l * sizeof(int32_t))
                p += l
        self.arena.n = p
        self.st_start.n = base
        self.st_len.n = base
        return self.push_entry(<int32_t> r0, <int32_t> total)

    cdef int verify_one(self, Py_ssize_t thm) except -2:
        """0: the proof verifies; 1: it is wrong; 2: it is incomplete ('?')."""
        cdef Stmt* t = &self.stmts[thm]
        cdef const unsigned char* b = <const unsigned char*> PyBytes_AS_STRING(self.bufs[t.file])
        cdef Py_ssize_t pos = t.pstart, end = t.pend, ts = 0, tl = 0, k, j, ntab, num, nmand
        cdef int32_t s, sid, r
        cdef bint incomplete = False, compressed, last_save
        cdef unsigned char c
        self.arena.n = 0
        self.st_start.n = 0
        self.st_len.n = 0
        self.sv_start.n = 0
        self.sv_len.n = 0
        self.table_st.n = 0
        if not proof_tok(b, &pos, end, &ts, &tl):
            return 1
        compressed = tl == 1 and b[ts] == 40
        if not compressed:
            while True:
                if tl == 1 and b[ts] == 63:  # '?'
                    incomplete = True
                    self.push_entry(0, -1)
                else:
                    s = self.lookup(b + ts, tl)
                    if s < 0:
                        return 1
                    sid = self.sym_label.d[s]
                    if sid < 0 or not self.active_for(sid, <int32_t> thm):
                        return 1
                    if self.step(sid, <int32_t> thm):
                        return 1
                if not proof_tok(b, &pos, end, &ts, &tl):
                    break
        else:
            nmand = t.nhyps
            for k in range(nmand):
                vec_push(&self.table_st, self.ints.d[t.hyps + k])
            while True:
                if not proof_tok(b, &pos, end, &ts, &tl):
                    return 1  # no ')'
                if tl == 1 and b[ts] == 41:
                    break
                s = self.lookup(b + ts, tl)
                if s < 0:
                    return 1
                sid = self.sym_label.d[s]
                if sid < 0:
                    return 1
                for k in range(nmand):
                    if self.table_st.d[k] == sid:
                        return 1
                if not self.active_for(sid, <int32_t> thm):
                    return 1
                vec_push(&self.table_st, sid)
            ntab = self.table_st.n
            num = 0
            last_save = True  # 'Z' may not come first
            while proof_tok(b, &pos, end, &ts, &tl):
                for k in range(ts, ts + tl):
                    c = b[k]
                    if 65 <= c <= 84:
                        num = num * 20 + (c - 64)
                        if num <= ntab:
                            if self.step(self.table_st.d[num - 1], <int32_t> thm):
                                return 1
                        else:
                            j = num - ntab - 1
                            if j >= self.sv_start.n:
                                return 1
                            self.push_entry(self.sv_start.d[j], self.sv_len.d[j])
                        num = 0
                        last_save = False
                    elif 85 <= c <= 89:
                        num = num * 5 + (c - 84)
                        if num > 100000000:
                            return 1
                    elif c == 90:  # 'Z'
                        if num or last_save:
                            return 1
                        vec_push(&self.sv_start, self.st_start.d[self.st_start.n - 1])
                        vec_push(&self.sv_len, self.st_len.d[self.st_len.n - 1])
                        last_save = True
                    elif c == 63:  # '?'
                        if num:
                            return 1
                        incomplete = True
                        self.push_entry(0, -1)
                        last_save = False
                    else:
                        return 1
            if num:
                return 1
        if self.st_start.n != 1:  # wrong even with '?' steps (a '?' is one entry), as metamath-exe holds
            return 1
        if incomplete:
            return 2
        if self.st_len.d[0] != t.nexpr:
            return 1
        if memcmp(self.arena.d + self.st_start.d[0], self.exprs.d + t.expr, t.nexpr * sizeof(int32_t)) != 0:
            return 1
        return 0
