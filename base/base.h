/*
 * base.h - what every folder of gpuhour shares: the error enum, the
 * canonical byte reader and writer, hex, hashing, signatures and keys at
 * rest.  Prefix gh_.
 *
 * Threads: everything here is safe to call from any thread once gh_init()
 * has returned, except where a comment says otherwise.  Handles
 * (gh_ed_key, gh_acct_key) are not shared between threads without a lock.
 */
#ifndef GH_BASE_H
#define GH_BASE_H

#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#define GH_VERSION_STRING "0.1.0"

/* ------------------------------------------------------------------ */
/* Errors.  0 is success; every function that can fail returns one.  */

typedef enum {
	GH_OK = 0,
	GH_EINVAL,       /* invalid argument */
	GH_ENOMEM,       /* out of memory */
	GH_ETRUNC,       /* input ends before the encoding does */
	GH_ETRAILING,    /* bytes left after the encoding */
	GH_ETOOLONG,     /* a field is longer than its maximum */
	GH_EVERSION,     /* unknown version byte */
	GH_ETYPE,        /* unknown or unexpected type byte */
	GH_ENONCANON,    /* not the one canonical encoding */
	GH_EBADSIG,      /* signature does not verify */
	GH_EBADKEY,      /* malformed public or secret key */
	GH_EIO,          /* an operating system I/O call failed */
	GH_ENOENT,       /* not found */
	GH_EEXIST,       /* already exists */
	GH_EPERM,        /* not allowed */
	GH_EDECRYPT,     /* wrong passphrase or damaged ciphertext */
	GH_ECORRUPT,     /* stored data is damaged */
	GH_EFULL,        /* store or queue is full */
	GH_ETIMEDOUT,    /* timed out */
	GH_ECLOSED,      /* closed or shutting down */
	GH_EPROTO,       /* protocol violation by a peer */
	GH_EOVERFLOW,    /* arithmetic overflow */
	GH_EFUNDS,       /* insufficient funds */
	GH_ENETID,       /* wrong network id */
	GH_ESEQ,         /* sequence number out of order */
	GH_EPREV,        /* previous-hash mismatch */
	GH_ECONFLICT,    /* object version already consumed or voted */
	GH_EFROZEN,      /* object frozen by an equivocation proof */
	GH_EWINDOW,      /* outside the time window that allows it */
	GH_EQUORUM,      /* too few valid votes */
	GH_EPENDING,     /* preconditions not met yet; kept pending */
	GH_EUNSUPPORTED, /* feature, type or architecture not supported */
	GH_EDEVICE,      /* accelerator device error */
	GH_EBUSY,        /* resource busy */
	GH_ELIMIT,       /* over a configured limit */
	GH_ECANCELED,    /* cancelled by whoever asked for it */
	GH_EINTERNAL,    /* a bug: an internal invariant failed */
	GH_ERR_COUNT
} gh_err;

/* A static, human-readable string for an error code; never NULL. */
const char *gh_strerror(int err);

/* Maps an errno value into gh_err (ENOENT, EEXIST, EACCES, ENOMEM...). */
int gh_err_from_errno(int e);

/*
 * Initialises libsodium and the secp256k1 context.  Call once from main
 * (or a test runner) before any other gh_ function; idempotent and
 * thread-safe.  Returns GH_OK or GH_EINTERNAL.
 */
int gh_init(void);

/* ------------------------------------------------------------------ */
/* Canonical encoding.
 *
 * Big-endian fixed-width integers; byte strings as a u32 length then
 * the bytes, each with a named maximum; every object starts with a
 * version byte and a type byte.
 */

/*
 * Bounds-checked reader over untrusted bytes.  The reader borrows the
 * buffer; it must outlive the reader and any view taken from it.  Fields
 * are private: use the functions.  Every get checks the remaining length
 * first and leaves the reader unchanged on error.
 */
typedef struct {
	const uint8_t *p;
	size_t         len;
	size_t         off;
} gh_reader;

void   gh_reader_init(gh_reader *r, const void *p, size_t len);
size_t gh_reader_left(const gh_reader *r);
int    gh_get_u8(gh_reader *r, uint8_t *v);
int    gh_get_u16(gh_reader *r, uint16_t *v);
int    gh_get_u32(gh_reader *r, uint32_t *v);
int    gh_get_u64(gh_reader *r, uint64_t *v);
/* A boolean byte: 0 or 1; anything else is GH_ENONCANON. */
int gh_get_bool(gh_reader *r, int *v);
/* Exactly n bytes, copied into out. */
int gh_get_fixed(gh_reader *r, void *out, size_t n);
/* Exactly n bytes as a view into the reader's buffer (borrowed), for
 * formats whose lengths are not u32-prefixed (GGUF) or to skip bytes. */
int gh_get_view(gh_reader *r, size_t n, const uint8_t **p);
/*
 * A u32-length-prefixed string of at most max bytes.  *p points into the
 * reader's buffer (borrowed).  GH_ETOOLONG when the length exceeds max,
 * GH_ETRUNC when the input is shorter.
 */
int gh_get_str(gh_reader *r, uint32_t max, const uint8_t **p, uint32_t *n);
/* As gh_get_str into a caller buffer of cap bytes, NUL-terminated; the
 * string must not contain a NUL byte (GH_ENONCANON).  Requires
 * cap > max. */
int gh_get_cstr(gh_reader *r, uint32_t max, char *out, size_t cap);
/* Reads the version and type bytes; GH_EVERSION unless version equals
 * want_version. */
int gh_get_header(gh_reader *r, uint8_t want_version, uint8_t *type);
/* GH_ETRAILING if any byte is left. */
int gh_reader_end(const gh_reader *r);

/*
 * Growable writer.  Errors are sticky: after the first failure every
 * put is a no-op and gh_writer_take/gh_writer_err return that error, so
 * an encoder can put all fields and check once.  gh_writer_free frees
 * the buffer unless it was taken.
 */
typedef struct {
	uint8_t *p;
	size_t   len;
	size_t   cap;
	int      err;
} gh_writer;

void gh_writer_init(gh_writer *w);
void gh_writer_free(gh_writer *w);
int  gh_writer_err(const gh_writer *w);
void gh_put_u8(gh_writer *w, uint8_t v);
void gh_put_u16(gh_writer *w, uint16_t v);
void gh_put_u32(gh_writer *w, uint32_t v);
void gh_put_u64(gh_writer *w, uint64_t v);
void gh_put_bool(gh_writer *w, int v);
void gh_put_fixed(gh_writer *w, const void *p, size_t n);
/* u32 length then the bytes; GH_ETOOLONG (sticky) if n > max. */
void gh_put_str(gh_writer *w, uint32_t max, const void *p, size_t n);
void gh_put_cstr(gh_writer *w, uint32_t max, const char *s);
void gh_put_header(gh_writer *w, uint8_t version, uint8_t type);
/* Hands the bytes to the caller (free with free()) and resets w.  On a
 * sticky error returns it, frees the buffer and sets *p = NULL. */
int gh_writer_take(gh_writer *w, uint8_t **p, size_t *n);

/* Big-endian helpers for fixed buffers (keys in LMDB and such). */
void     gh_be64_put(uint8_t out[8], uint64_t v);
uint64_t gh_be64_get(const uint8_t in[8]);
void     gh_be32_put(uint8_t out[4], uint32_t v);
uint32_t gh_be32_get(const uint8_t in[4]);

/* ------------------------------------------------------------------ */
/* Hex. */

/* Writes 2n lowercase hex digits and a NUL into out (2n+1 bytes). */
void gh_hex_encode(const void *p, size_t n, char *out);
/* Decodes exactly 2n hex digits (either case) into n bytes; GH_EINVAL on
 * a bad digit or another length. */
int gh_hex_decode(const char *s, void *out, size_t n);

/* ------------------------------------------------------------------ */
/* Hashing. */

typedef struct {
	uint8_t b[32];
} gh_hash;

/* Domain tags: one per object type that is hashed or signed. */
#define GH_TAG_ENTRY      "gpuhour/entry/v1"
#define GH_TAG_VOTE       "gpuhour/vote/v1"
#define GH_TAG_GENESIS    "gpuhour/genesis/v1"
#define GH_TAG_OFFER      "gpuhour/offer/v1"
#define GH_TAG_RECEIPT    "gpuhour/receipt/v1"
#define GH_TAG_PROOF      "gpuhour/proof/v1"
#define GH_TAG_CHECKPOINT "gpuhour/checkpoint/v1"
#define GH_TAG_HANDSHAKE  "gpuhour/handshake/v1"
#define GH_TAG_MESSAGE    "gpuhour/message/v1"
#define GH_TAG_MODEL      "gpuhour/model/v1"
#define GH_TAG_KEYFILE    "gpuhour/keyfile/v1"

/*
 * BLAKE2b-256 over u8(strlen(tag)) || tag || p[0..n).  tag is one of the
 * GH_TAG_ constants (at most 255 bytes).
 */
void gh_hash_tagged(const char *tag, const void *p, size_t n, gh_hash *out);

/* Incremental tagged BLAKE2b-256, for objects hashed in pieces. */
typedef struct {
	crypto_generichash_state s;
} gh_hasher;
void gh_hasher_init(gh_hasher *h, const char *tag);
void gh_hasher_update(gh_hasher *h, const void *p, size_t n);
void gh_hasher_final(gh_hasher *h, gh_hash *out);

/* SHA-256 (for the RFC 6962 Merkle log). */
void gh_sha256(const void *p, size_t n, uint8_t out[32]);
typedef struct {
	crypto_hash_sha256_state s;
} gh_sha256_ctx;
void gh_sha256_init(gh_sha256_ctx *c);
void gh_sha256_update(gh_sha256_ctx *c, const void *p, size_t n);
void gh_sha256_final(gh_sha256_ctx *c, uint8_t out[32]);

/* ------------------------------------------------------------------ */
/* Signatures.
 *
 * Ed25519 (libsodium) for node, validator and receipt keys; BIP340
 * Schnorr over secp256k1 (libsecp256k1) for account keys.  Both sign a
 * 32-byte hash, never raw bytes.  Secret keys live in sodium_malloc
 * memory inside opaque handles; only the sign functions read them.
 */

typedef struct {
	uint8_t b[32];
} gh_ed_pub; /* Ed25519 public key */

typedef struct {
	uint8_t b[32];
} gh_acct_pub; /* BIP340 x-only public key */

typedef struct {
	uint8_t b[64];
} gh_sig; /* either scheme: 64 bytes */

typedef struct gh_ed_key   gh_ed_key;
typedef struct gh_acct_key gh_acct_key;

/* New random key.  *out is owned by the caller: gh_ed_key_free. */
int gh_ed_key_new(gh_ed_key **out);
/* Deterministic key from a 32-byte seed (tests, devnets, keyfiles). */
int  gh_ed_key_from_seed(const uint8_t seed[32], gh_ed_key **out);
void gh_ed_key_free(gh_ed_key *k); /* accepts NULL; wipes */
void gh_ed_key_pub(const gh_ed_key *k, gh_ed_pub *out);
void gh_ed_sign(const gh_ed_key *k, const gh_hash *msg, gh_sig *out);
/* GH_OK or GH_EBADSIG (also for a malformed public key). */
int gh_ed_verify(const gh_ed_pub *pub, const gh_hash *msg, const gh_sig *sig);
/* The X25519 key pair of an Ed25519 key, for sealed job payloads.  The
 * secret is written to sk (32 bytes) which the caller wipes. */
int gh_ed_to_x25519(const gh_ed_key *k, uint8_t pk[32], uint8_t sk[32]);
int gh_ed_pub_to_x25519(const gh_ed_pub *pub, uint8_t pk[32]);

int gh_acct_key_new(gh_acct_key **out);
/* GH_EBADKEY when the 32 bytes are not a valid secp256k1 secret. */
int  gh_acct_key_from_seed(const uint8_t seed[32], gh_acct_key **out);
void gh_acct_key_free(gh_acct_key *k); /* accepts NULL; wipes */
void gh_acct_key_pub(const gh_acct_key *k, gh_acct_pub *out);
/* BIP340 signature with fresh random auxiliary data. */
int gh_acct_sign(const gh_acct_key *k, const gh_hash *msg, gh_sig *out);
/* BIP340 signature with the given auxiliary data (test vectors). */
int gh_acct_sign_aux(const gh_acct_key *k, const uint8_t msg[32],
    const uint8_t aux[32], gh_sig *out);
/* GH_OK or GH_EBADSIG (also for a public key not on the curve). */
int gh_acct_verify(
    const gh_acct_pub *pub, const gh_hash *msg, const gh_sig *sig);
int gh_acct_verify_raw(const uint8_t pub[32], const uint8_t *msg,
    size_t msglen, const gh_sig *sig);

/* ------------------------------------------------------------------ */
/* Keys at rest.
 *
 * A key file holds one account or node key, encrypted with
 * XChaCha20-Poly1305 under a key derived by Argon2id from a passphrase;
 * the header (kind, KDF limits, salt, nonce, public key) is the AEAD's
 * associated data, so any changed byte fails to open.  Files are
 * written 0600 through a temporary file and rename.
 */

typedef enum {
	GH_KEY_ACCOUNT = 1,
	GH_KEY_NODE    = 2,
} gh_key_kind;

#define GH_KEYFILE_MAX 512

/* What a key file holds without decrypting it. */
typedef struct {
	gh_key_kind kind;
	uint8_t     pub[32];
	int         encrypted; /* 0 when written with no passphrase */
} gh_keyfile_info;

/*
 * Writes a new random key of kind to path (which must not exist:
 * GH_EEXIST), encrypted under pass[0..passlen); passlen 0 means no
 * passphrase (tests only).  Fills *info.  Not thread-safe per path.
 */
int gh_keyfile_create(const char *path, gh_key_kind kind, const char *pass,
    size_t passlen, gh_keyfile_info *info);
/* As gh_keyfile_create, from a given seed (devnets, tests). */
int gh_keyfile_create_seed(const char *path, gh_key_kind kind,
    const uint8_t seed[32], const char *pass, size_t passlen,
    gh_keyfile_info *info);
/* Reads the public part; GH_ECORRUPT on a malformed file. */
int gh_keyfile_info_read(const char *path, gh_keyfile_info *info);
/*
 * Decrypts a key file.  Exactly one of ed/acct is filled, by kind:
 * GH_ETYPE if the file holds the other kind.  GH_EDECRYPT for a wrong
 * passphrase or a tampered file; GH_ECORRUPT for a malformed one.
 */
int gh_keyfile_open_node(
    const char *path, const char *pass, size_t passlen, gh_ed_key **out);
int gh_keyfile_open_account(
    const char *path, const char *pass, size_t passlen, gh_acct_key **out);
/* Decodes/encodes key file bytes (used by the above and the fuzz
 * target).  dec: info and the sealed part are borrowed views. */
int gh_keyfile_decode(const uint8_t *p, size_t n, gh_keyfile_info *info);

/* ------------------------------------------------------------------ */
/* Files and time. */

/*
 * Writes p[0..n) to path atomically: a temporary file in the same
 * folder, fsync, rename, fsync of the folder.  mode is the new file's
 * permission (0600 for secrets).
 */
int gh_file_write_atomic(
    const char *path, const void *p, size_t n, unsigned mode);
/* Reads at most max bytes of a file into a malloc'd buffer (caller
 * frees).  GH_ELIMIT when larger than max. */
int gh_file_read(const char *path, size_t max, uint8_t **p, size_t *n);
/* Creates a folder and its parents (mode for new ones). */
int gh_mkdir_p(const char *path, unsigned mode);

/* Wall clock in seconds / monotonic clock in nanoseconds. */
uint64_t gh_time_now(void);
uint64_t gh_mono_ns(void);

/* 128-bit products for amounts (share accrual, escrow arithmetic). */
__extension__ typedef unsigned __int128 gh_u128;

/* Checked arithmetic: GH_EOVERFLOW instead of wrapping. */
int gh_add_u64(uint64_t a, uint64_t b, uint64_t *out);
int gh_sub_u64(uint64_t a, uint64_t b, uint64_t *out);
int gh_mul_u64(uint64_t a, uint64_t b, uint64_t *out);
/* floor(a * b / c) computed in 128 bits; GH_EOVERFLOW if the result does
 * not fit u64, GH_EINVAL when c is 0. */
int gh_muldiv_u64(uint64_t a, uint64_t b, uint64_t c, uint64_t *out);

#endif /* GH_BASE_H */
