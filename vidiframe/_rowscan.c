/*
 * vidiframe._rowscan: one validating pass over an export's "data" array.
 *
 * Why C: the array holds up to millions of flat JSON objects. Polars' NDJSON
 * reader, given the registry's schema, is the fastest exact parser available,
 * but it needs one row per line and silently skips keys its schema does not
 * name. This pass gives it both guarantees, chunk by chunk, at a few GB/s,
 * which neither NumPy (one pass per question asked) nor a Python loop can:
 *
 *   - every key of every row is checked against the registry's names, so an
 *     unknown field can never be dropped by the schema;
 *   - every value's JSON kind is checked against its field's kind, so the
 *     schema can never coerce a value (Polars would turn 12 into "12");
 *   - the JSON grammar of the rows is checked strictly (numbers, literals,
 *     escapes, strings without control characters, valid UTF-8), so invalid
 *     JSON is never accepted by a more lenient reader;
 *   - the chunk is then copied with the commas between rows turned into
 *     newlines (and whitespace line breaks into spaces): NDJSON.
 *
 * Chunks of a few MB, rather than one copy of the whole array, let the caller
 * parse one chunk while the next is scanned, and reuse memory the allocator
 * already has (a fresh 400 MB copy costs more in page faults than the scan).
 *
 * Anything outside that narrow shape (a nested value, an unknown or duplicated
 * key, a kind mismatch, a lone surrogate escape, invalid JSON) is declined with a
 * reason, and the caller takes its exact general path instead. Declining only
 * ever costs time; it never changes a value.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define QUOTED_MAX 48

typedef struct {
    const char *name;
    Py_ssize_t len;
    char kind; /* 's' text, 'i' integer, 'f' number, 'b' boolean, 'x' only null */
    /* The key with its quotes, zero padded, compared 16 bytes at a time. */
    unsigned char quoted[QUOTED_MAX];
    int blocks;             /* 16-byte blocks to compare (0: too long, compare bytes) */
    unsigned last_mask;     /* the bytes of the last block that belong to the key */
} Key;

typedef struct {
    const unsigned char *base; /* the first byte of the chunk */
    const Key *keys;
    Py_ssize_t nkeys;
    Py_ssize_t *last_row;   /* per key: the last row it was seen in (duplicates) */
    Py_ssize_t *next_guess; /* per key: the key that followed it last time */
    Py_ssize_t first_guess;
    unsigned char *seen;
    Py_ssize_t rows;
    int line_breaks;    /* whether whitespace held a line break (to blank in the copy) */
    Py_ssize_t *commas; /* offsets of the commas between the chunk's rows */
    Py_ssize_t ncommas, commas_cap;
    const char *reason;
    const unsigned char *where;
} Scan;

static inline int is_ws(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/* The scanning functions take and return a cursor; NULL means declined. */
#define DECLINE(s, p, why) do { (s)->reason = (why); (s)->where = (p); return NULL; } while (0)

static inline const unsigned char *skip_ws(Scan *s, const unsigned char *p, const unsigned char *end) {
    while (p < end && is_ws(*p)) {
        if (*p == '\n' || *p == '\r') s->line_breaks = 1;
        p++;
    }
    return p;
}

/* Keys are short: word compares beat a call to memcmp, the scan's main cost. */
static inline int same_bytes(const unsigned char *a, const char *b, Py_ssize_t len) {
    for (; len >= 8; a += 8, b += 8, len -= 8) {
        uint64_t x, y;
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);
        if (x != y) return 0;
    }
    for (; len > 0; a++, b++, len--) {
        if (*a != (unsigned char)*b) return 0;
    }
    return 1;
}

/* The length of the valid UTF-8 sequence at p (0 if invalid), per RFC 3629. */
static Py_ssize_t utf8_length(const unsigned char *p, Py_ssize_t avail) {
    unsigned char c = p[0];
    if (c >= 0xC2 && c <= 0xDF) {
        return (avail >= 2 && (p[1] & 0xC0) == 0x80) ? 2 : 0;
    }
    if (c >= 0xE0 && c <= 0xEF) {
        if (avail < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80) return 0;
        if (c == 0xE0 && p[1] < 0xA0) return 0; /* overlong */
        if (c == 0xED && p[1] > 0x9F) return 0; /* surrogate */
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (avail < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80)
            return 0;
        if (c == 0xF0 && p[1] < 0x90) return 0; /* overlong */
        if (c == 0xF4 && p[1] > 0x8F) return 0; /* above U+10FFFF */
        return 4;
    }
    return 0;
}

/* The first byte at or after p that is '"', '\\', a control character or not ASCII. */
static inline const unsigned char *string_stop(const unsigned char *p, const unsigned char *end) {
#ifdef __SSE2__
    const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\');
    const __m128i space = _mm_set1_epi8(0x20);
    while (end - p >= 16) {
        __m128i chunk = _mm_loadu_si128((const __m128i *)p);
        /* Signed: bytes >= 0x80 are negative, so "below 0x20" also catches them. */
        __m128i stop = _mm_or_si128(
            _mm_or_si128(_mm_cmpeq_epi8(chunk, quote), _mm_cmpeq_epi8(chunk, backslash)),
            _mm_cmplt_epi8(chunk, space));
        int mask = _mm_movemask_epi8(stop);
        if (mask) return p + __builtin_ctz((unsigned)mask);
        p += 16;
    }
#endif
    while (p < end && *p != '"' && *p != '\\' && *p >= 0x20 && *p < 0x80) p++;
    return p;
}

static int hex4(const unsigned char *p, const unsigned char *end, unsigned *value) {
    if (end - p < 4) return 0;
    *value = 0;
    for (int i = 0; i < 4; i++) {
        unsigned char c = p[i];
        unsigned digit;
        if (c >= '0' && c <= '9') {
            digit = c - '0';
        } else if (c >= 'a' && c <= 'f') {
            digit = c - 'a' + 10;
        } else if (c >= 'A' && c <= 'F') {
            digit = c - 'A' + 10;
        } else {
            return 0;
        }
        *value = *value * 16 + digit;
    }
    return 1;
}

/* At a backslash: the byte after the escape. Polars decodes a lone surrogate
   (\ud800) to U+0000 where JSON parsers reject it, so it is declined here. */
static const unsigned char *scan_escape(Scan *s, const unsigned char *p, const unsigned char *end) {
    if (end - p < 2) DECLINE(s, p, "unterminated string");
    switch (p[1]) {
    case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
        return p + 2;
    case 'u': {
        unsigned high, low;
        if (!hex4(p + 2, end, &high)) DECLINE(s, p, "invalid \\u escape");
        if (high >= 0xDC00 && high <= 0xDFFF) DECLINE(s, p, "lone surrogate escape");
        if (high < 0xD800 || high > 0xDBFF) return p + 6;
        if (end - p < 12 || p[6] != '\\' || p[7] != 'u' || !hex4(p + 8, end, &low) || low < 0xDC00 || low > 0xDFFF)
            DECLINE(s, p, "lone surrogate escape");
        return p + 12;
    }
    default:
        DECLINE(s, p, "invalid escape");
    }
}

/* At an opening quote: the byte after the closing one. */
static const unsigned char *scan_string(Scan *s, const unsigned char *p, const unsigned char *end) {
    p++;
    for (;;) {
        p = string_stop(p, end);
        if (p >= end) DECLINE(s, p, "unterminated string");
        unsigned char c = *p;
        if (c == '"') return p + 1;
        if (c == '\\') {
            p = scan_escape(s, p, end);
            if (p == NULL) return NULL;
            continue;
        }
        if (c < 0x20) DECLINE(s, p, "control character in a string");
        Py_ssize_t step = utf8_length(p, end - p);
        if (step == 0) DECLINE(s, p, "invalid UTF-8 in a string");
        p += step;
    }
}

static inline int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

/* A JSON number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static const unsigned char *scan_number(Scan *s, const unsigned char *p, const unsigned char *end, char kind) {
    int integral = 1;
    if (p < end && *p == '-') p++;
    if (p >= end || !is_digit(*p)) DECLINE(s, p, "invalid number");
    if (*p == '0') {
        p++;
    } else {
        while (p < end && is_digit(*p)) p++;
    }
    if (p < end && *p == '.') {
        integral = 0;
        p++;
        if (p >= end || !is_digit(*p)) DECLINE(s, p, "invalid number");
        while (p < end && is_digit(*p)) p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        integral = 0;
        p++;
        if (p < end && (*p == '+' || *p == '-')) p++;
        if (p >= end || !is_digit(*p)) DECLINE(s, p, "invalid number");
        while (p < end && is_digit(*p)) p++;
    }
    if (kind == 'i' && !integral) DECLINE(s, p, "fraction or exponent in an integer field");
    return p;
}

static inline const unsigned char *scan_literal(
    Scan *s, const unsigned char *p, const unsigned char *end, const char *word, Py_ssize_t len) {
    if (end - p < len || memcmp(p, word, (size_t)len) != 0) DECLINE(s, p, "invalid literal");
    return p + len;
}

static void prepare_key(Key *key) {
    Py_ssize_t quoted = key->len + 2;
    memset(key->quoted, 0, QUOTED_MAX);
    key->blocks = 0;
    if (quoted > QUOTED_MAX) return;
    key->quoted[0] = '"';
    memcpy(key->quoted + 1, key->name, (size_t)key->len);
    key->quoted[quoted - 1] = '"';
    key->blocks = (int)((quoted + 15) / 16);
    Py_ssize_t tail = quoted - 16 * (key->blocks - 1);
    key->last_mask = tail == 16 ? 0xFFFFu : (1u << tail) - 1;
}

/* Whether p starts with the quoted key. */
static inline int at_key(const Key *key, const unsigned char *p, const unsigned char *end) {
#ifdef __SSE2__
    /* The rows repeat the same few keys: one or two vector compares, no byte loop
       whose length changes from key to key (its branches are what costs). */
    if (key->blocks && end - p >= 16 * key->blocks) {
        for (int i = 0; i < key->blocks; i++) {
            __m128i data = _mm_loadu_si128((const __m128i *)(p + 16 * i));
            __m128i want = _mm_loadu_si128((const __m128i *)(key->quoted + 16 * i));
            unsigned equal = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(data, want));
            unsigned mask = i == key->blocks - 1 ? key->last_mask : 0xFFFFu;
            if ((equal & mask) != mask) return 0;
        }
        return 1;
    }
#endif
    return end - p > key->len + 1 && p[key->len + 1] == '"' && same_bytes(p + 1, key->name, key->len);
}

static Py_ssize_t find_key(const Scan *s, const unsigned char *name, Py_ssize_t len) {
    for (Py_ssize_t k = 0; k < s->nkeys; k++) {
        if (s->keys[k].len == len && same_bytes(name, s->keys[k].name, len)) return k;
    }
    return -1;
}

static const unsigned char *scan_value(Scan *s, const unsigned char *p, const unsigned char *end, char kind) {
    unsigned char c = *p;
    if (c == '"') {
        if (kind != 's') DECLINE(s, p, "text where the field expects another kind");
        return scan_string(s, p, end);
    }
    if (c == '-' || is_digit(c)) {
        if (kind != 'i' && kind != 'f') DECLINE(s, p, "number where the field expects another kind");
        return scan_number(s, p, end, kind);
    }
    if (c == 'n') return scan_literal(s, p, end, "null", 4);
    if (c == 't' || c == 'f') {
        if (kind != 'b') DECLINE(s, p, "boolean where the field expects another kind");
        return c == 't' ? scan_literal(s, p, end, "true", 4) : scan_literal(s, p, end, "false", 5);
    }
    if (c == '{' || c == '[') DECLINE(s, p, "nested value");
    DECLINE(s, p, "invalid value");
}

/* At a '{': one flat row, up to and past its '}'. */
static const unsigned char *scan_row(Scan *s, const unsigned char *p, const unsigned char *end) {
    Py_ssize_t guess = s->first_guess, previous = -1;
    p = skip_ws(s, p + 1, end);
    if (p < end && *p == '}') return p + 1;
    for (;;) {
        if (p >= end || *p != '"') DECLINE(s, p, "expected a key");
        Py_ssize_t k = -1;
        /* Rows nearly always repeat the previous row's keys in its order. */
        if (guess >= 0 && at_key(&s->keys[guess], p, end)) {
            k = guess;
            p += s->keys[guess].len + 2;
        }
        if (k < 0) {
            const unsigned char *name = p + 1;
            p = scan_string(s, p, end);
            if (p == NULL) return NULL;
            k = find_key(s, name, p - 1 - name);
            if (k < 0) DECLINE(s, name, "unknown key");
        }
        if (s->last_row[k] == s->rows) DECLINE(s, p, "duplicate key");
        s->last_row[k] = s->rows;
        s->seen[k] = 1;
        if (previous < 0) {
            s->first_guess = k;
        } else {
            s->next_guess[previous] = k;
        }
        previous = k;
        guess = s->next_guess[k];
        if (p < end && *p == ':') {
            p++;
        } else {
            p = skip_ws(s, p, end);
            if (p >= end || *p != ':') DECLINE(s, p, "expected ':'");
            p = skip_ws(s, p + 1, end);
        }
        if (p < end && is_ws(*p)) p = skip_ws(s, p, end);
        if (p >= end) DECLINE(s, p, "expected a value");
        p = scan_value(s, p, end, s->keys[k].kind);
        if (p == NULL) return NULL;
        if (p < end && *p != ',' && *p != '}') p = skip_ws(s, p, end);
        if (p >= end) DECLINE(s, p, "unterminated row");
        if (*p == ',') {
            p++;
            if (p < end && *p != '"') p = skip_ws(s, p, end);
            continue;
        }
        if (*p == '}') return p + 1;
        DECLINE(s, p, "expected ',' or '}'");
    }
}

static int add_comma(Scan *s, const unsigned char *p) {
    if (s->ncommas == s->commas_cap) {
        Py_ssize_t cap = s->commas_cap ? s->commas_cap * 2 : 4096;
        /* PyMem_Raw*: the scan runs without the GIL. */
        Py_ssize_t *grown = PyMem_RawRealloc(s->commas, sizeof(Py_ssize_t) * (size_t)cap);
        if (grown == NULL) return 0;
        s->commas = grown;
        s->commas_cap = cap;
    }
    s->commas[s->ncommas++] = p - s->base;
    return 1;
}

/*
 * Rows from the start of [p, end), stopping before the first row that starts at
 * or beyond `limit` bytes. Returns the end of the chunk (the comma after its last
 * row, or `end`) and sets *next to where the next chunk's first row starts;
 * NULL when declined.
 */
static const unsigned char *scan_rows(Scan *s, const unsigned char *p, const unsigned char *end, Py_ssize_t limit,
                                      const unsigned char **next) {
    *next = end;
    p = skip_ws(s, p, end);
    if (p >= end) return end;
    for (;;) {
        if (*p != '{') DECLINE(s, p, "a row that is not an object");
        p = scan_row(s, p, end);
        if (p == NULL) return NULL;
        s->rows++;
        p = skip_ws(s, p, end);
        if (p >= end) return end;
        if (*p != ',') DECLINE(s, p, "expected ',' between rows");
        const unsigned char *comma = p;
        p = skip_ws(s, p + 1, end);
        if (p >= end) DECLINE(s, p, "trailing comma");
        if (p - s->base >= limit) {
            *next = p;
            return comma;
        }
        if (!add_comma(s, comma)) DECLINE(s, p, "out of memory");
    }
}

/* Copy the chunk into `out` as NDJSON: a newline between rows, no other line break. */
static void write_ndjson(const Scan *s, unsigned char *out, Py_ssize_t len) {
    memcpy(out, s->base, (size_t)len);
    /* Outside strings a line break is whitespace, and inside one the scan declined it. */
    for (const char *breaks = "\n\r"; s->line_breaks && *breaks; breaks++) {
        unsigned char *at = out, *stop = out + len;
        while ((at = memchr(at, *breaks, (size_t)(stop - at))) != NULL) *at++ = ' ';
    }
    for (Py_ssize_t i = 0; i < s->ncommas; i++) out[s->commas[i]] = '\n';
}

PyDoc_STRVAR(scan_doc,
"scan(data, keys, kinds, limit, /)\n--\n\n"
"Check the rows at the start of a data array's contents; return them as NDJSON.\n\n"
"``data`` is (the rest of) the bytes between the array's brackets, starting at\n"
"a row; ``keys`` a tuple of the registry's field names (bytes) and ``kinds``\n"
"one kind letter per key (``s`` text, ``i`` integer, ``f`` number, ``b``\n"
"boolean, ``x`` null only). The chunk ends before the first row that starts\n"
"at or beyond ``limit`` bytes.\n\n"
"Returns ``(ndjson, rows, seen, consumed)``: ``seen`` holds 1 for each key\n"
"present, and the next chunk starts at ``data[consumed:]`` (``consumed`` is\n"
"``len(data)`` after the last chunk). Returns a ``str`` saying why instead when\n"
"the bytes are outside what this pass proves.");

static PyObject *scan(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    (void)module;
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "scan() takes exactly 4 arguments");
        return NULL;
    }
    PyObject *keys_obj = args[1], *kinds_obj = args[2];
    if (!PyTuple_Check(keys_obj) || !PyBytes_Check(kinds_obj)) {
        PyErr_SetString(PyExc_TypeError, "scan() takes a buffer, a tuple of bytes, bytes and an int");
        return NULL;
    }
    Py_ssize_t limit = PyLong_AsSsize_t(args[3]);
    if (limit == -1 && PyErr_Occurred()) return NULL;
    Py_ssize_t nkeys = PyTuple_GET_SIZE(keys_obj);
    if (PyBytes_GET_SIZE(kinds_obj) != nkeys) {
        PyErr_SetString(PyExc_ValueError, "one kind per key");
        return NULL;
    }
    Py_buffer view;
    if (PyObject_GetBuffer(args[0], &view, PyBUF_SIMPLE) < 0) return NULL;

    PyObject *result = NULL, *out = NULL;
    size_t slots = (size_t)(nkeys ? nkeys : 1);
    Key *keys = PyMem_Calloc(slots, sizeof(Key));
    Py_ssize_t *last_row = PyMem_Malloc(sizeof(Py_ssize_t) * slots);
    Py_ssize_t *next_guess = PyMem_Malloc(sizeof(Py_ssize_t) * slots);
    unsigned char *seen = PyMem_Calloc(slots, 1);
    Scan s = {0};
    if (keys == NULL || last_row == NULL || next_guess == NULL || seen == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    const char *kinds = PyBytes_AS_STRING(kinds_obj);
    for (Py_ssize_t k = 0; k < nkeys; k++) {
        PyObject *key = PyTuple_GET_ITEM(keys_obj, k);
        if (!PyBytes_Check(key)) {
            PyErr_SetString(PyExc_TypeError, "keys must be bytes");
            goto done;
        }
        keys[k].name = PyBytes_AS_STRING(key);
        keys[k].len = PyBytes_GET_SIZE(key);
        keys[k].kind = kinds[k];
        prepare_key(&keys[k]);
        last_row[k] = -1;
        next_guess[k] = -1;
    }
    s.base = view.buf;
    s.keys = keys;
    s.nkeys = nkeys;
    s.last_row = last_row;
    s.next_guess = next_guess;
    s.first_guess = -1;
    s.seen = seen;

    const unsigned char *chunk_end, *next;
    Py_BEGIN_ALLOW_THREADS
    chunk_end = scan_rows(&s, s.base, s.base + view.len, limit, &next);
    Py_END_ALLOW_THREADS
    if (chunk_end == NULL) {
        result = PyUnicode_FromFormat("%s at byte %zd of the chunk", s.reason, (Py_ssize_t)(s.where - s.base));
        goto done;
    }
    Py_ssize_t len = chunk_end - s.base;
    out = PyBytes_FromStringAndSize(NULL, len);
    if (out == NULL) goto done;
    Py_BEGIN_ALLOW_THREADS
    write_ndjson(&s, (unsigned char *)PyBytes_AS_STRING(out), len);
    Py_END_ALLOW_THREADS
    result = Py_BuildValue("(Ony#n)", out, s.rows, (const char *)seen, nkeys, (Py_ssize_t)(next - s.base));

done:
    Py_XDECREF(out);
    PyMem_Free(keys);
    PyMem_Free(last_row);
    PyMem_Free(next_guess);
    PyMem_Free(seen);
    PyMem_RawFree(s.commas);
    PyBuffer_Release(&view);
    return result;
}

static PyMethodDef methods[] = {
    {"scan", (PyCFunction)(void (*)(void))scan, METH_FASTCALL, scan_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "vidiframe._rowscan",
    .m_doc = "One validating pass that turns an export's data array into NDJSON.",
    .m_size = 0,
    .m_methods = methods,
};

PyMODINIT_FUNC PyInit__rowscan(void) { return PyModule_Create(&module); }
