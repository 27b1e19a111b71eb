/* specproof's Wine helper: runs inside Wine and executes the adapter's
 * commands, one line per command on stdin, one line per answer on stdout.
 *
 * Numbers are hexadecimal without a prefix; memory travels as hex bytes.
 *
 *   ping                          -> ok
 *   info                          -> ok <wine version> <major.minor.build> <arch>
 *   resolve <module|*> <symbol>   -> ok <address> | missing
 *   alloc <size>                  -> ok <address>          (zero-filled)
 *   write <address> <hexbytes>    -> ok | fault ...
 *   read <address> <size>         -> ok <hexbytes> | fault ...
 *   free <address>                -> ok
 *   call <address> [arg ...]      -> ret <value> <last error|-> | fault <code> <address> [<module.function>]
 *   exit                          -> (the helper exits)
 *
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

typedef unsigned long long u64;
typedef u64 (*call12)(u64, u64, u64, u64, u64, u64, u64, u64, u64, u64, u64, u64);

#define MAX_ARGS 12
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

/* Reads one line into `line` (without the newline); returns 0 at end of input. */
static int read_line(char *line, size_t capacity)
{
    static char buffer[65536];
    static DWORD have, at;
    size_t size = 0;
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
            return 1;
        }
        if (size + 1 < capacity) line[size++] = c;
    }
}

static void do_info(void)
{
    char text[256];
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
    snprintf(text, sizeof text, "ok %s %lu.%lu.%lu x86_64", wine, os.dwMajorVersion, os.dwMinorVersion,
             os.dwBuildNumber);
    answer(text);
}

static void do_resolve(char *module, char *symbol)
{
    char text[64];
    FARPROC address = NULL;
    if (strcmp(module, "*") != 0) {
        HMODULE handle = LoadLibraryA(module);
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
    snprintf(text, sizeof text, "ok %llx", (u64)address);
    answer(text);
}

static void do_call(char *rest)
{
    u64 args[MAX_ARGS] = { 0 };
    u64 target = _strtoui64(rest, &rest, 16);
    volatile u64 value = 0;
    DWORD last;
    int count = 0;
    char text[64];
    while (*rest && count < MAX_ARGS) {
        char *end;
        u64 arg = _strtoui64(rest, &end, 16);
        if (end == rest) break;
        args[count++] = arg;
        rest = end;
    }
    if (__builtin_setjmp(jump_buffer)) {
        answer_fault();
        return;
    }
    armed = 1;
    SetLastError(LAST_ERROR_SENTINEL);
    value = ((call12)target)(args[0], args[1], args[2], args[3], args[4], args[5], args[6], args[7], args[8],
                             args[9], args[10], args[11]);
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
    unsigned char *volatile target = (unsigned char *)_strtoui64(rest, &rest, 16);
    char *volatile hex = rest;
    while (*hex == ' ') hex++;
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
    unsigned char *volatile source = (unsigned char *)_strtoui64(rest, &rest, 16);
    volatile size_t size = (size_t)_strtoui64(rest, &rest, 16);
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

int main(void)
{
    static char line[LINE_MAX_BYTES];
    static char output[LINE_MAX_BYTES];
    char text[64];

    out_handle = GetStdHandle(STD_OUTPUT_HANDLE);
    in_handle = GetStdHandle(STD_INPUT_HANDLE);
    main_thread = GetCurrentThreadId();
    SetErrorMode(SEM_FAILCRITICALERRORS | SEM_NOGPFAULTERRORBOX | SEM_NOOPENFILEERRORBOX);
    SetUnhandledExceptionFilter(on_unhandled);

    while (read_line(line, sizeof line)) {
        if (strcmp(line, "ping") == 0) {
            answer("ok");
        } else if (strcmp(line, "info") == 0) {
            do_info();
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
            size_t size = (size_t)_strtoui64(line + 6, NULL, 16);
            void *block = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, size ? size : 1);
            if (!block) {
                answer("err out of memory");
                continue;
            }
            snprintf(text, sizeof text, "ok %llx", (u64)block);
            answer(text);
        } else if (strncmp(line, "free ", 5) == 0) {
            HeapFree(GetProcessHeap(), 0, (void *)_strtoui64(line + 5, NULL, 16));
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
