/* specproof's Wine helper: runs inside Wine and executes the adapter's
 * commands, one line per command on stdin, one line per answer on stdout.
 *
 * Numbers are hexadecimal without a prefix; memory travels as hex bytes.
 *
 * It speaks version 1 of the kit's wire protocol (adapters/PROTOCOL.md):
 *
 *   hello 1                       -> ok 1 name=wine version=<wine> windows=<major.minor.build> arch=x86_64 kernel=process
 *   ping                          -> ok
 *   resolve <module|*> <symbol>   -> ok <address> | missing
 *   alloc <size>                  -> ok <address>          (zero-filled)
 *   write <address> <hexbytes>    -> ok | fault ...
 *   read <address> <size>         -> ok <hexbytes> | fault ...
 *   free <address>                -> ok
 *   call <address> [arg ...]      -> ret <value> <last error|-> | fault <code> <address> [<module.function>]
 *   exit                          -> (the helper exits)
 *
 * A malformed command is `err usage: ...`, an unknown one `err unknown
 * command`, a line longer than LINE_MAX_BYTES `err line too long` (the
 * rest of it is skipped); nothing runs for any of them.
 * Every answer line starts with RS (0x1e). The adapter gives the helper
 * one pipe for both stdout and stderr, and Wine prints its diagnostics
 * (fixme:, err:) to stderr as they happen, so every other line on the
 * pipe before an answer is a diagnostic of that command.
 *
 * Last error: just before a call the helper sets the thread's last error to
 * LAST_ERROR_SENTINEL, with nothing in between that may change it, and
 * reads it right after; `-` says the function left it alone.
 *
 * Faults: an unhandled-exception filter jumps back to the command that
 * was running (GCC's __builtin_setjmp: no unwinding through the faulting
 * code) and the helper answers `fault`. Its state may be damaged after
 * that, so the adapter restarts it before the next test.
 */
#include <windows.h>
#include <psapi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>

typedef unsigned long long u64;
typedef u64 (*call16)(u64, u64, u64, u64, u64, u64, u64, u64, u64, u64, u64, u64, u64, u64, u64, u64);

#define MAX_ARGS 16
#define LINE_MAX_BYTES (1 << 20)
#define EXCEPTION_WINE_STUB 0x80000100
/* No function sets this last error: neither a Win32 error, nor an HRESULT or NTSTATUS in use. */
#define LAST_ERROR_SENTINEL 0x5EC7A11Eu

static void *jump_buffer[5];
static volatile LONG armed;
static DWORD main_thread;
static volatile DWORD fault_code;
static volatile u64 fault_address;
static char fault_where[256];

static HANDLE out_handle, in_handle;

/* A served connection's rules (`--policy FILE`, written by `specproof agent serve`): only the listed
 * functions resolve, only resolved addresses are called, and the blocks allocated stay under a limit.
 * Without a policy (the wine adapter's own helper) everything is allowed. */
static int policed;
static char *served_names;        /* NUL-separated, sorted */
static char **served;             /* pointers into served_names */
static size_t served_count;
static char *stub_names;          /* the served functions Wine ships as stubs, NUL-separated, sorted */
static char **stubs;
static size_t stub_count;
static u64 *resolved;             /* addresses this connection resolved */
static size_t resolved_count, resolved_capacity;
static u64 memory_limit, memory_held;
/* `inline <name> <dll>`: the served routines the headers define inline, each built into a DLL of its own
 * beside the helper whose one export, specproof_inline, runs the headers' body (`resolve inline <name>`). */
#define INLINE_MAX 256
static char *inline_names[INLINE_MAX], *inline_dlls[INLINE_MAX];
static size_t inline_count;

/* `idle <milliseconds>` in the policy: a connection silent that long while no command runs is told so and
 * closed, as the agent closes the sessions it relays; once it has handed the connection over, the agent no
 * longer sees the traffic and cannot. `state` says what the main thread is doing, so that the watch and a
 * line that arrives just then never both act. */
#define EXIT_IDLE 6
enum { WAITING, RUNNING, CLOSING };
static DWORD idle_limit;
static volatile LONG64 last_heard;
static volatile LONG state;

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_served(const char *symbol)
{
    return bsearch(&symbol, served, served_count, sizeof *served, by_name) != NULL;
}

/* Whether `module`'s `symbol` is a stub: the policy's `stub <module>!<symbol>` lines name the module as
 * Wine's file does (lower case, with its extension; `.dll` added when the name has none). */
static int is_stub(const char *module, const char *symbol)
{
    char key[600];
    const char *probe = key;
    size_t at = 0;
    if (!stub_count || strcmp(module, "*") == 0) return 0;
    for (; *module && at < 260; module++) key[at++] = (char)tolower((unsigned char)*module);
    key[at] = 0;
    if (!strchr(key, '.')) { memcpy(key + at, ".dll", 5); at += 4; }
    snprintf(key + at, sizeof key - at, "!%s", symbol);
    return bsearch(&probe, stubs, stub_count, sizeof *stubs, by_name) != NULL;
}

/* Appends `name` (with its NUL) to a NUL-separated list; 0 when out of memory. */
static int add_name(char **names, size_t *size, size_t *capacity, size_t *count, const char *name)
{
    size_t length = strlen(name) + 1;
    while (*size + length > *capacity) {
        *capacity = *capacity ? 2 * *capacity : 1 << 16;
        *names = realloc(*names, *capacity);
        if (!*names) return 0;
    }
    memcpy(*names + *size, name, length);
    *size += length;
    (*count)++;
    return 1;
}

/* Pointers to each name of a NUL-separated list, sorted. */
static char **index_names(char *names, size_t count)
{
    char **index = malloc((count + 1) * sizeof *index);
    if (!index) return NULL;
    for (size_t i = 0, at = 0; i < count; i++) {
        index[i] = names + at;
        at += strlen(names + at) + 1;
    }
    qsort(index, count, sizeof *index, by_name);
    return index;
}

static int was_resolved(u64 address)
{
    for (size_t i = 0; i < resolved_count; i++)
        if (resolved[i] == address) return 1;
    return 0;
}

static void remember(u64 address)
{
    if (was_resolved(address)) return;
    if (resolved_count == resolved_capacity) {
        resolved_capacity = resolved_capacity ? 2 * resolved_capacity : 256;
        resolved = realloc(resolved, resolved_capacity * sizeof *resolved);
        if (!resolved) ExitProcess(4);
    }
    resolved[resolved_count++] = address;
}

/* The policy file: `memory <hex bytes>`, `idle <decimal milliseconds>`, one `export <name>` line per served
 * function, one `stub <name>` line per served function Wine ships as a stub (resolve says so) and one
 * `inline <name> <dll>` line per served routine the headers define inline. */
static int load_policy(const char *path)
{
    FILE *file = fopen(path, "rb");
    char line[512];
    size_t size = 0, capacity = 0, stub_size = 0, stub_capacity = 0;
    if (!file) return 0;
    while (fgets(line, sizeof line, file)) {
        line[strcspn(line, "\r\n")] = 0;
        if (strncmp(line, "memory ", 7) == 0) {
            memory_limit = _strtoui64(line + 7, NULL, 16);
        } else if (strncmp(line, "inline ", 7) == 0 && inline_count < INLINE_MAX) {
            char *name = line + 7, *dll = strchr(name, ' ');
            if (!dll || !dll[1]) continue;
            *dll++ = 0;
            inline_names[inline_count] = _strdup(name);
            inline_dlls[inline_count] = _strdup(dll);
            if (!inline_names[inline_count] || !inline_dlls[inline_count]) return 0;
            inline_count++;
        } else if (strncmp(line, "idle ", 5) == 0) {
            idle_limit = (DWORD)strtoul(line + 5, NULL, 10);
        } else if (strncmp(line, "export ", 7) == 0 && line[7]) {
            if (!add_name(&served_names, &size, &capacity, &served_count, line + 7)) return 0;
        } else if (strncmp(line, "stub ", 5) == 0 && line[5]) {
            if (!add_name(&stub_names, &stub_size, &stub_capacity, &stub_count, line + 5)) return 0;
        }
    }
    fclose(file);
    served = index_names(served_names, served_count);
    stubs = stub_count ? index_names(stub_names, stub_count) : NULL;
    if (!served || (stub_count && !stubs)) return 0;
    policed = 1;
    return 1;
}

static void put(HANDLE handle, const char *text, size_t size)
{
    DWORD written;
    while (size) {
        if (!WriteFile(handle, text, (DWORD)size, &written, NULL) || !written)
            ExitProcess(3);
        text += written;
        size -= written;
    }
}

/* One answer line, in one write: RS, the text, a newline. */
static void answer(const char *text)
{
    static char line[LINE_MAX_BYTES + 8];
    size_t size = strlen(text);
    if (size > LINE_MAX_BYTES) size = LINE_MAX_BYTES;
    line[0] = '\x1e';
    memcpy(line + 1, text, size);
    line[size + 1] = '\n';
    put(out_handle, line, size + 2);
}

static DWORD WINAPI watch_idle(void *unused)
{
    char text[96];
    (void)unused;
    for (;;) {
        Sleep(idle_limit < 10000 ? idle_limit / 10 + 1 : 1000);
        if (state == WAITING && (u64)(GetTickCount64() - last_heard) >= idle_limit
            && InterlockedCompareExchange(&state, CLOSING, WAITING) == WAITING) {
            snprintf(text, sizeof text, "\x1e" "err idle for %lu ms: the session is closed\n",
                     (unsigned long)idle_limit);
            put(out_handle, text, strlen(text));
            ExitProcess(EXIT_IDLE);
        }
    }
}

static LONG WINAPI on_unhandled(EXCEPTION_POINTERS *pointers)
{
    EXCEPTION_RECORD *record = pointers->ExceptionRecord;
    if (!armed || GetCurrentThreadId() != main_thread)
        return EXCEPTION_EXECUTE_HANDLER; /* not ours to survive: the process ends */
    armed = 0;
    fault_code = record->ExceptionCode;
    fault_address = (u64)record->ExceptionAddress;
    fault_where[0] = 0;
    /* Wine's stubs name themselves: parameters are the module and function names. */
    if (record->ExceptionCode == EXCEPTION_WINE_STUB && record->NumberParameters >= 2) {
        const char *module = (const char *)record->ExceptionInformation[0];
        const char *function = (const char *)record->ExceptionInformation[1];
        if (module && (ULONG_PTR)function > 0xffff)
            snprintf(fault_where, sizeof fault_where, "%s.%s", module, function);
    }
    __builtin_longjmp(jump_buffer, 1);
}

static void answer_fault(void)
{
    char text[400];
    snprintf(text, sizeof text, "fault %lx %llx%s%s", (unsigned long)fault_code, fault_address,
             fault_where[0] ? " " : "", fault_where);
    answer(text);
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Reads one line into `line` (without the newline); returns 0 at end of input, -1 for a line that did not
 * fit (its rest is skipped), 1 otherwise. */
static int read_line(char *line, size_t capacity)
{
    static char buffer[65536];
    static DWORD have, at;
    size_t size = 0;
    int overflow = 0;
    for (;;) {
        if (at == have) {
            if (!ReadFile(in_handle, buffer, sizeof buffer, &have, NULL) || have == 0)
                return 0;
            at = 0;
        }
        char c = buffer[at++];
        if (c == '\n') {
            if (size && line[size - 1] == '\r') size--;
            line[size] = 0;
            return overflow ? -1 : 1;
        }
        if (size + 1 < capacity) line[size++] = c;
        else overflow = 1;
    }
}

/* One hexadecimal field at *cursor (after spaces): at least one digit, then a space or the end. */
static int hex_field(char **cursor, u64 *value)
{
    char *start = *cursor, *end;
    while (*start == ' ') start++;
    if (hexval(*start) < 0) return 0;
    *value = _strtoui64(start, &end, 16);
    if (*end && *end != ' ') return 0;
    *cursor = end;
    return 1;
}

/* `text` with spaces, `%` and control characters percent-encoded, for a key=value field. */
static void encode_field(char *out, size_t capacity, const char *text)
{
    static const char digits[] = "0123456789ABCDEF";
    size_t at = 0;
    for (; *text && at + 4 < capacity; text++) {
        unsigned char c = (unsigned char)*text;
        if (c <= ' ' || c == '%' || c >= 0x7f) {
            out[at++] = '%';
            out[at++] = digits[c >> 4];
            out[at++] = digits[c & 15];
        } else {
            out[at++] = (char)c;
        }
    }
    out[at] = 0;
}

static void do_hello(void)
{
    char text[512], version[128];
    const char *wine = "unknown";
    const char *(CDECL *get_version)(void) = NULL;
    NTSTATUS (WINAPI *rtl_get_version)(OSVERSIONINFOW *) = NULL;
    OSVERSIONINFOW os;
    HMODULE ntdll = GetModuleHandleA("ntdll.dll");
    memset(&os, 0, sizeof os);
    os.dwOSVersionInfoSize = sizeof os;
    if (ntdll) {
        get_version = (void *)GetProcAddress(ntdll, "wine_get_version");
        rtl_get_version = (void *)GetProcAddress(ntdll, "RtlGetVersion");
    }
    if (get_version) wine = get_version();
    if (rtl_get_version) rtl_get_version(&os);
    if (get_version) {
        encode_field(version, sizeof version, wine);
        snprintf(text, sizeof text, "ok 1 name=wine version=%s windows=%lu.%lu.%lu arch=x86_64 kernel=process",
                 version, os.dwMajorVersion, os.dwMinorVersion, os.dwBuildNumber);
    } else { /* Windows itself: no wine_get_version in its ntdll */
        snprintf(text, sizeof text, "ok 1 name=windows version=%lu.%lu.%lu windows=%lu.%lu.%lu arch=x86_64 "
                 "kernel=0", os.dwMajorVersion, os.dwMinorVersion, os.dwBuildNumber, os.dwMajorVersion,
                 os.dwMinorVersion, os.dwBuildNumber);
    }
    answer(text);
}

/* A kernel module named `NAME.sys` lives in the system's drivers folder, which the loader does not search:
 * load it from there (ntoskrnl.exe and hal.dll are found in the system folder as they are). */
static HMODULE load_driver(const char *module)
{
    char path[MAX_PATH];
    size_t length = strlen(module);
    UINT folder;
    if (length < 5 || _stricmp(module + length - 4, ".sys") != 0 || strpbrk(module, "\\/:"))
        return NULL;
    folder = GetSystemDirectoryA(path, MAX_PATH);
    if (!folder || folder + 9 + length >= MAX_PATH) return NULL;
    snprintf(path + folder, MAX_PATH - folder, "\\drivers\\%s", module);
    /* its imports may be drivers too (hidclass.sys needs hidparse.sys): look beside it first */
    return LoadLibraryExA(path, NULL, LOAD_LIBRARY_SEARCH_DLL_LOAD_DIR | LOAD_LIBRARY_SEARCH_DEFAULT_DIRS);
}

static void do_resolve(char *module, char *symbol)
{
    char text[512];
    FARPROC address = NULL;
    if (policed && !is_served(symbol)) {
        snprintf(text, sizeof text, "err %.300s is not a function of the served specs", symbol);
        answer(text);
        return;
    }
    if (strcmp(module, "inline") == 0) {
        for (size_t i = 0; i < inline_count; i++) {
            if (strcmp(inline_names[i], symbol) == 0) {
                HMODULE handle = LoadLibraryA(inline_dlls[i]);
                if (handle) address = GetProcAddress(handle, "specproof_inline");
                break;
            }
        }
    } else if (strcmp(module, "*") != 0) {
        HMODULE handle = LoadLibraryA(module);
        if (!handle) handle = load_driver(module);
        if (handle) address = GetProcAddress(handle, symbol);
    } else {
        HMODULE modules[1024];
        DWORD needed = 0;
        if (EnumProcessModules(GetCurrentProcess(), modules, sizeof modules, &needed)) {
            for (DWORD i = 0; i < needed / sizeof(HMODULE) && !address; i++)
                address = GetProcAddress(modules[i], symbol);
        }
    }
    if (!address) {
        answer("missing");
        return;
    }
    if (policed) remember((u64)address);
    snprintf(text, sizeof text, is_stub(module, symbol) ? "ok %llx stub" : "ok %llx", (u64)address);
    answer(text);
}

static void do_call(char *rest)
{
    u64 args[MAX_ARGS] = { 0 };
    u64 target;
    volatile u64 value = 0;
    DWORD last;
    int count = 0;
    char text[64];
    if (!hex_field(&rest, &target)) {
        answer("err usage: call <address> [argument ...] (hexadecimal)");
        return;
    }
    while (*rest) {
        u64 arg;
        while (*rest == ' ') rest++;
        if (!*rest) break;
        if (count == MAX_ARGS || !hex_field(&rest, &arg)) {
            answer(count == MAX_ARGS ? "err a call passes at most 16 arguments"
                                     : "err usage: call <address> [argument ...] (hexadecimal)");
            return;
        }
        args[count++] = arg;
    }
    if (policed && !was_resolved(target)) {
        snprintf(text, sizeof text, "err 0x%llx is not an export this session resolved", target);
        answer(text);
        return;
    }
    if (__builtin_setjmp(jump_buffer)) {
        answer_fault();
        return;
    }
    armed = 1;
    SetLastError(LAST_ERROR_SENTINEL);
    value = ((call16)target)(args[0], args[1], args[2], args[3], args[4], args[5], args[6], args[7], args[8],
                             args[9], args[10], args[11], args[12], args[13], args[14], args[15]);
    last = GetLastError();
    armed = 0;
    if (last == LAST_ERROR_SENTINEL)
        snprintf(text, sizeof text, "ret %llx -", value);
    else
        snprintf(text, sizeof text, "ret %llx %lx", value, (unsigned long)last);
    answer(text);
}

static void do_write(char *rest)
{
    u64 address;
    unsigned char *volatile target;
    char *volatile hex;
    size_t length;
    if (!hex_field(&rest, &address)) {
        answer("err usage: write <address> <hexbytes>");
        return;
    }
    target = (unsigned char *)address;
    while (*rest == ' ') rest++;
    hex = rest;
    length = strlen(rest);
    for (size_t i = 0; i < length; i++) {
        if (hexval(rest[i]) < 0 || length % 2) {
            answer("err usage: write <address> <hexbytes> (an even number of hex digits)");
            return;
        }
    }
    if (__builtin_setjmp(jump_buffer)) {
        answer_fault();
        return;
    }
    armed = 1;
    for (size_t i = 0; hex[2 * i] && hex[2 * i + 1]; i++)
        target[i] = (unsigned char)(hexval(hex[2 * i]) << 4 | hexval(hex[2 * i + 1]));
    armed = 0;
    answer("ok");
}

static void do_read(char *rest, char *output)
{
    static const char digits[] = "0123456789abcdef";
    u64 address, length;
    unsigned char *volatile source;
    volatile size_t size;
    if (!hex_field(&rest, &address) || !hex_field(&rest, &length) || *rest) {
        answer("err usage: read <address> <size>");
        return;
    }
    source = (unsigned char *)address;
    size = (size_t)length;
    if (size > (LINE_MAX_BYTES - 8) / 2) {
        answer("err read too large");
        return;
    }
    if (__builtin_setjmp(jump_buffer)) {
        answer_fault();
        return;
    }
    armed = 1;
    memcpy(output, "ok ", 3);
    for (size_t i = 0; i < size; i++) {
        output[3 + 2 * i] = digits[source[i] >> 4];
        output[4 + 2 * i] = digits[source[i] & 15];
    }
    armed = 0;
    output[3 + 2 * size] = 0;
    answer(output);
}

int main(int argc, char **argv)
{
    static char line[LINE_MAX_BYTES];
    static char output[LINE_MAX_BYTES];
    char text[64];
    int greet = 0;

    out_handle = GetStdHandle(STD_OUTPUT_HANDLE);
    in_handle = GetStdHandle(STD_INPUT_HANDLE);
    main_thread = GetCurrentThreadId();
    SetErrorMode(SEM_FAILCRITICALERRORS | SEM_NOGPFAULTERRORBOX | SEM_NOOPENFILEERRORBOX);
    SetUnhandledExceptionFilter(on_unhandled);
    /* --policy FILE: a served connection's rules; --greet: the client's hello was answered for us up to
     * the version, so answer it now with who we are */
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--policy") == 0 && i + 1 < argc) {
            if (!load_policy(argv[++i])) {
                answer("err the helper cannot read its policy");
                return 5;
            }
        } else if (strcmp(argv[i], "--greet") == 0) {
            greet = 1;
        }
    }
    if (greet) do_hello();
    if (idle_limit) {
        last_heard = GetTickCount64();
        if (!CreateThread(NULL, 0, watch_idle, NULL, 0, NULL)) {
            answer("err the helper cannot watch for idleness");
            return 5;
        }
    }

    for (;;) {
        int got;
        u64 number;
        char *cursor;
        last_heard = GetTickCount64();
        InterlockedExchange(&state, WAITING);
        got = read_line(line, sizeof line);
        if (InterlockedCompareExchange(&state, RUNNING, WAITING) != WAITING)
            Sleep(INFINITE); /* closed for idleness: the watch is ending the process */
        if (got == 0) break;
        if (got < 0) {
            answer("err line too long");
            continue;
        }
        if (strcmp(line, "ping") == 0) {
            answer("ok");
        } else if (strncmp(line, "hello ", 6) == 0) {
            if (strcmp(line + 6, "1") == 0)
                do_hello();
            else
                answer("err this helper speaks version 1");
        } else if (strcmp(line, "exit") == 0) {
            break;
        } else if (strncmp(line, "resolve ", 8) == 0) {
            char *module = line + 8;
            char *symbol = strchr(module, ' ');
            if (!symbol) {
                answer("err usage: resolve <module|*> <symbol>");
                continue;
            }
            *symbol++ = 0;
            do_resolve(module, symbol);
        } else if (strncmp(line, "alloc ", 6) == 0) {
            void *block;
            cursor = line + 6;
            if (!hex_field(&cursor, &number) || *cursor) {
                answer("err usage: alloc <size>");
                continue;
            }
            if (policed && memory_held + (number ? number : 1) > memory_limit) {
                snprintf(output, sizeof output, "err memory limit: this session holds %llu bytes of %llu",
                         memory_held, memory_limit);
                answer(output);
                continue;
            }
            block = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, number ? (size_t)number : 1);
            if (block && policed) memory_held += number ? number : 1;
            if (!block) {
                answer("err out of memory");
                continue;
            }
            snprintf(text, sizeof text, "ok %llx", (u64)block);
            answer(text);
        } else if (strncmp(line, "free ", 5) == 0) {
            cursor = line + 5;
            if (!hex_field(&cursor, &number) || *cursor) {
                answer("err usage: free <address>");
                continue;
            }
            if (policed && number) {
                SIZE_T held = HeapSize(GetProcessHeap(), 0, (void *)number);
                if (held != (SIZE_T)-1 && held <= memory_held) memory_held -= held;
            }
            HeapFree(GetProcessHeap(), 0, (void *)number);
            answer("ok");
        } else if (strncmp(line, "write ", 6) == 0) {
            do_write(line + 6);
        } else if (strncmp(line, "read ", 5) == 0) {
            do_read(line + 5, output);
        } else if (strncmp(line, "call ", 5) == 0) {
            do_call(line + 5);
        } else {
            answer("err unknown command");
        }
    }
    return 0;
}
