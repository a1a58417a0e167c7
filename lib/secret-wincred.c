/*
 * lib/secret.h on Windows: the token in the Windows Credential Manager
 * (CredWriteW / CredReadW / CredDeleteW), as a generic credential named
 * "stint:<server URL>" whose user name is the email, persisted for this
 * user on this machine. There is always a keyring here, and the token is
 * never written to a file (st_secret_file_allowed is false): when the
 * Credential Manager refuses, signing in fails. Not for Linux
 * (secret-dl.c).
 */
#include "lib/secret.h"

#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#include <wincred.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"

#define TARGET_PREFIX L"stint:"
/* Windows caps a generic credential's blob at 5 * 512 bytes. */
#define BLOB_MAX CRED_MAX_CREDENTIAL_BLOB_SIZE

/* UTF-8 as UTF-16 with room for a prefix, newly allocated; NULL on bad UTF-8. */
static wchar_t *wide_with(const wchar_t *prefix, const char *s)
{
    size_t pn = wcslen(prefix);
    int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, NULL, 0);
    wchar_t *w;

    if (n <= 0)
        return NULL;
    w = xmalloc((pn + (size_t)n) * sizeof(*w));
    memcpy(w, prefix, pn * sizeof(*w));
    if (MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, w + pn, n) != n) {
        free(w);
        return NULL;
    }
    return w;
}

bool st_secret_file_allowed(void)
{
    return false;
}

int st_secret_store(const char *server, const char *email, const char *token)
{
    CREDENTIALW c = {0};
    wchar_t *target = wide_with(TARGET_PREFIX, server);
    wchar_t *user = email ? wide_with(L"", email) : NULL;
    size_t len = strlen(token);
    int r = 0;

    if (!target || (email && !user) || len == 0 || len > BLOB_MAX) {
        r = -EINVAL;
        goto out;
    }
    /* One sign-in: a token of another server goes first. */
    st_secret_clear();
    c.Type = CRED_TYPE_GENERIC;
    c.TargetName = target;
    c.UserName = user;
    c.CredentialBlob = (LPBYTE)token;
    c.CredentialBlobSize = (DWORD)len;
    c.Persist = CRED_PERSIST_LOCAL_MACHINE;
    if (!CredWriteW(&c, 0))
        r = GetLastError() == ERROR_NO_SUCH_LOGON_SESSION ? -ENOKEY : -EACCES;
out:
    free(target);
    free(user);
    return r;
}

int st_secret_lookup(const char *server, const char *email, char **ret_token)
{
    wchar_t *target = wide_with(TARGET_PREFIX, server);
    PCREDENTIALW c = NULL;
    char *token;
    int r = 0;

    if (!target)
        return -EINVAL;
    if (!CredReadW(target, CRED_TYPE_GENERIC, 0, &c)) {
        r = GetLastError() == ERROR_NOT_FOUND ? -ENOENT : -ENOKEY;
        goto out;
    }
    if (c->CredentialBlobSize == 0 || c->CredentialBlobSize > BLOB_MAX ||
        memchr(c->CredentialBlob, 0, c->CredentialBlobSize)) {
        r = -ENOENT;
        goto out;
    }
    token = xmalloc(c->CredentialBlobSize + 1);
    memcpy(token, c->CredentialBlob, c->CredentialBlobSize);
    token[c->CredentialBlobSize] = '\0';
    *ret_token = token;
out:
    if (c) {
        SecureZeroMemory(c->CredentialBlob, c->CredentialBlobSize);
        CredFree(c);
    }
    free(target);
    (void)email;
    return r;
}

int st_secret_clear(void)
{
    PCREDENTIALW *list = NULL;
    DWORD n = 0;
    int r = 0;

    if (!CredEnumerateW(TARGET_PREFIX L"*", 0, &n, &list))
        return GetLastError() == ERROR_NOT_FOUND ? 0 : -ENOKEY;
    for (DWORD i = 0; i < n; i++) {
        if (list[i]->Type == CRED_TYPE_GENERIC &&
            !CredDeleteW(list[i]->TargetName, CRED_TYPE_GENERIC, 0) &&
            GetLastError() != ERROR_NOT_FOUND)
            r = -EACCES;
    }
    CredFree(list);
    return r;
}
