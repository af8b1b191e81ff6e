/*
 * vidiframe._rowscan: one validating pass over an export's "data" array.
 *
 * Why C: the array holds up to millions of flat JSON objects. Polars' NDJSON
 * reader, given the registry's schema, is the fastest exact parser available,
 * but it needs one row per line and silently skips keys its schema does not
 * name. This pass gives it both guarantees in a single copy of the bytes,
 * which neither NumPy (one pass per question asked) nor a Python loop can:
 *
 *   - the commas between rows become newlines (and whitespace newlines inside
 *     rows become spaces), in a new bytes object;
 *   - every key of every row is checked against the registry's names, so an
 *     unknown field can never be dropped by the schema;
 *   - every value's JSON kind is checked against its field's kind, so the
 *     schema can never coerce a value (Polars would turn 12 into "12");
 *   - the JSON grammar of the rows is checked strictly (numbers, literals,
 *     escapes, strings without control characters, valid UTF-8), so invalid
 *     JSON is never accepted by a more lenient reader.
 *
 * Anything outside that narrow shape (a nested value, an unknown or duplicated
 * key, a kind mismatch, a lone surrogate escape, invalid JSON) is declined with a
 * reason, and the caller takes its exact general path instead. Declining only
 * ever costs time; it never changes a value.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

typedef struct {
    const char *name;
    Py_ssize_t len;
    char kind; /* 's' text, 'i' integer, 'f' number, 'b' boolean, 'x' only null */
} Key;

typedef struct {
    const unsigned char *base; /* the first byte of the data array's contents */
    unsigned char *out;        /* the copy being turned into NDJSON */
    const Key *keys;
    Py_ssize_t nkeys;
    Py_ssize_t *last_row;   /* per key: the last row it was seen in (duplicates) */
    Py_ssize_t *next_guess; /* per key: the key that followed it last time */
    Py_ssize_t first_guess;
    unsigned char *seen;
    Py_ssize_t rows;
    const char *reason;
    const unsigned char *where;
} Scan;

static inline int is_ws(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/* The scanning functions take and return a cursor; NULL means declined. */
#define DECLINE(s, p, why) do { (s)->reason = (why); (s)->where = (p); return NULL; } while (0)

static inline const unsigned char *skip_ws(Scan *s, const unsigned char *p, const unsigned char *end) {
    while (p < end) {
        unsigned char c = *p;
        if (c == ' ' || c == '\t') {
            p++;
        } else if (c == '\n' || c == '\r') {
            /* A line break inside a row would split it for the line reader. */
            s->out[p - s->base] = ' ';
            p++;
        } else {
            break;
        }
    }
    return p;
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

static Py_ssize_t find_key(const Scan *s, const unsigned char *name, Py_ssize_t len) {
    for (Py_ssize_t k = 0; k < s->nkeys; k++) {
        if (s->keys[k].len == len && memcmp(s->keys[k].name, name, (size_t)len) == 0) return k;
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
        if (guess >= 0) {
            const Key *g = &s->keys[guess];
            if (end - p > g->len + 1 && p[g->len + 1] == '"' && memcmp(p + 1, g->name, (size_t)g->len) == 0) {
                k = guess;
                p += g->len + 2;
            }
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

static int scan_rows(Scan *s, const unsigned char *p, const unsigned char *end) {
    p = skip_ws(s, p, end);
    if (p >= end) return 1;
    for (;;) {
        if (*p != '{') {
            s->reason = "a row that is not an object";
            s->where = p;
            return 0;
        }
        p = scan_row(s, p, end);
        if (p == NULL) return 0;
        s->rows++;
        if (p < end && *p != ',') p = skip_ws(s, p, end);
        if (p >= end) return 1;
        if (*p != ',') {
            s->reason = "expected ',' between rows";
            s->where = p;
            return 0;
        }
        s->out[p - s->base] = '\n';
        p = skip_ws(s, p + 1, end);
        if (p >= end) {
            s->reason = "trailing comma";
            s->where = p;
            return 0;
        }
    }
}

/* -- splitting the work ------------------------------------------------------------- */

/*
 * A large array is cut into parts scanned by one thread each. A cut is only a guess
 * (a "},{" may sit inside a string), so each part except the last must end exactly
 * at its cut after a complete row: that proves the cut is a real row separator,
 * and so that the next part starts at a real row. A wrong guess makes a part fail,
 * and the whole array is scanned again in one piece.
 */
#define MAX_PARTS 16
#define MIN_PART_BYTES (4 << 20)
/* Each part's per-key arrays start 16 slots (at least 128 bytes) after the previous
   part's end, so two threads never write to one cache line. */
#define STRIDE(nkeys) ((nkeys) + 16)

typedef struct {
    Scan scan;
    const unsigned char *start, *end;
    int ok;
    char pad[128]; /* keeps the threads' hot fields off each other's cache lines */
} Part;

static void run_part(Part *part) {
    memcpy(part->scan.out + (part->start - part->scan.base), part->start, (size_t)(part->end - part->start));
    part->ok = scan_rows(&part->scan, part->start, part->end);
}

#ifndef _WIN32
#include <pthread.h>
static void *part_thread(void *arg) {
    run_part((Part *)arg);
    return NULL;
}
#endif

/* The ',' of the first "}" "," "{" (whitespace allowed between) at or after p. */
static const unsigned char *next_cut(const unsigned char *p, const unsigned char *end) {
    while (p < end) {
        const unsigned char *close = memchr(p, '}', (size_t)(end - p));
        if (close == NULL) return NULL;
        const unsigned char *comma = close + 1;
        while (comma < end && is_ws(*comma)) comma++;
        if (comma < end && *comma == ',') {
            const unsigned char *open = comma + 1;
            while (open < end && is_ws(*open)) open++;
            if (open < end && *open == '{') return comma;
        }
        p = close + 1;
    }
    return NULL;
}

static void reset_part(Part *part, const Scan *proto, Py_ssize_t *last_row, Py_ssize_t *next_guess,
                       unsigned char *seen) {
    part->scan = *proto;
    part->scan.last_row = last_row;
    part->scan.next_guess = next_guess;
    part->scan.seen = seen;
    for (Py_ssize_t k = 0; k < proto->nkeys; k++) {
        last_row[k] = -1;
        next_guess[k] = -1;
        seen[k] = 0;
    }
}

/* Scan [base, base + len) in up to `threads` parts; the result is in parts[0] (rows, seen). */
static int scan_parts(Part *parts, int threads, const Scan *proto, Py_ssize_t len, Py_ssize_t *last_row,
                      Py_ssize_t *next_guess, unsigned char *seen) {
    const unsigned char *base = proto->base, *end = base + len;
    Py_ssize_t nkeys = proto->nkeys;
    int n = threads;
    if (n > MAX_PARTS) n = MAX_PARTS;
    if (n > len / MIN_PART_BYTES) n = (int)(len / MIN_PART_BYTES);
    if (n < 1) n = 1;
#ifdef _WIN32
    n = 1;
#endif
    const unsigned char *cuts[MAX_PARTS];
    int count = 1;
    for (int i = 1; i < n; i++) {
        const unsigned char *cut = next_cut(base + len / n * i, end);
        if (cut == NULL || (count > 1 && cut <= cuts[count - 1])) break;
        cuts[count++] = cut;
    }
    for (int i = 0; i < count; i++) {
        reset_part(&parts[i], proto, last_row + i * STRIDE(nkeys), next_guess + i * STRIDE(nkeys),
                   seen + i * STRIDE(nkeys));
        parts[i].start = i == 0 ? base : cuts[i] + 1;
        parts[i].end = i + 1 < count ? cuts[i + 1] : end;
    }
#ifndef _WIN32
    pthread_t ids[MAX_PARTS];
    int started[MAX_PARTS] = {0};
    for (int i = 1; i < count; i++) started[i] = pthread_create(&ids[i], NULL, part_thread, &parts[i]) == 0;
    run_part(&parts[0]);
    for (int i = 1; i < count; i++) {
        if (started[i]) {
            pthread_join(ids[i], NULL);
        } else {
            run_part(&parts[i]);
        }
    }
#else
    run_part(&parts[0]);
#endif
    int ok = 1;
    for (int i = 0; i < count; i++) ok = ok && parts[i].ok && (i == 0 || parts[i].scan.rows > 0);
    if (ok) {
        for (int i = 1; i < count; i++) {
            parts[i].scan.out[cuts[i] - base] = '\n';
            parts[0].scan.rows += parts[i].scan.rows;
            for (Py_ssize_t k = 0; k < nkeys; k++) parts[0].scan.seen[k] |= parts[i].scan.seen[k];
        }
        return 1;
    }
    if (count == 1) return 0;
    /* A cut was inside a string, or the array is outside what the scan proves:
       one piece tells which, and where. */
    reset_part(&parts[0], proto, last_row, next_guess, seen);
    parts[0].start = base;
    parts[0].end = end;
    run_part(&parts[0]);
    return parts[0].ok;
}

/* -- the module ------------------------------------------------------------------------ */

PyDoc_STRVAR(scan_doc,
"scan(data, keys, kinds, threads, /)\n--\n\n"
"Check the contents of a data array and turn them into NDJSON.\n\n"
"``data`` is the bytes between the array's brackets, ``keys`` a tuple of the\n"
"registry's field names (bytes) and ``kinds`` one kind letter per key\n"
"(``s`` text, ``i`` integer, ``f`` number, ``b`` boolean, ``x`` null only);\n"
"large arrays are scanned by up to ``threads`` threads.\n"
"Returns ``(ndjson, rows, seen)``, ``seen`` holding 1 for each key present,\n"
"or a ``str`` saying why the bytes are outside what this pass proves.");

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
    long threads = PyLong_AsLong(args[3]);
    if (threads == -1 && PyErr_Occurred()) return NULL;
    Py_ssize_t nkeys = PyTuple_GET_SIZE(keys_obj);
    if (PyBytes_GET_SIZE(kinds_obj) != nkeys) {
        PyErr_SetString(PyExc_ValueError, "one kind per key");
        return NULL;
    }
    Py_buffer view;
    if (PyObject_GetBuffer(args[0], &view, PyBUF_SIMPLE) < 0) return NULL;

    PyObject *result = NULL, *out = NULL, *seen_obj = NULL;
    size_t slots = (size_t)STRIDE(nkeys) * MAX_PARTS;
    Key *keys = PyMem_Calloc((size_t)(nkeys ? nkeys : 1), sizeof(Key));
    Py_ssize_t *last_row = PyMem_Malloc(sizeof(Py_ssize_t) * slots);
    Py_ssize_t *next_guess = PyMem_Malloc(sizeof(Py_ssize_t) * slots);
    unsigned char *seen = PyMem_Malloc(slots);
    Part *parts = PyMem_Calloc(MAX_PARTS, sizeof(Part));
    if (keys == NULL || last_row == NULL || next_guess == NULL || seen == NULL || parts == NULL) {
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
    }
    out = PyBytes_FromStringAndSize(NULL, view.len);
    if (out == NULL) goto done;

    Scan proto = {
        .base = view.buf,
        .out = (unsigned char *)PyBytes_AS_STRING(out),
        .keys = keys,
        .nkeys = nkeys,
        .first_guess = -1,
    };
    int ok;
    Py_BEGIN_ALLOW_THREADS
    ok = scan_parts(parts, threads < 1 ? 1 : (int)(threads > MAX_PARTS ? MAX_PARTS : threads), &proto, view.len,
                    last_row, next_guess, seen);
    Py_END_ALLOW_THREADS
    if (ok) {
        seen_obj = PyBytes_FromStringAndSize((const char *)parts[0].scan.seen, nkeys);
        if (seen_obj != NULL) result = Py_BuildValue("(OnO)", out, parts[0].scan.rows, seen_obj);
    } else {
        result = PyUnicode_FromFormat("%s at byte %zd of the data array", parts[0].scan.reason,
                                      (Py_ssize_t)(parts[0].scan.where - proto.base));
    }

done:
    Py_XDECREF(out);
    Py_XDECREF(seen_obj);
    PyMem_Free(keys);
    PyMem_Free(last_row);
    PyMem_Free(next_guess);
    PyMem_Free(seen);
    PyMem_Free(parts);
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
