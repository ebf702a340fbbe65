#!/usr/bin/env bash
# Seeds fuzz/corpus/<target>/ from the repository's test-vectors/ and, when present, the
# shared vectors beside the repository (../shared/test-vectors, or $SCEP_SHARED_VECTORS).
# Idempotent: existing corpus files are kept, seeds are (re)written under fixed names.
# With openssl on the PATH, envelopes and decrypted payloads are also extracted from the
# messages (pwri, csr, ber seeds); without it those targets get fewer seeds.
#
# Usage: fuzz/seed.sh            (from anywhere)
set -euo pipefail
cd "$(dirname "$0")"
export LC_ALL=C

repo_vectors=../test-vectors
sealed=$repo_vectors/sealed
shared=${SCEP_SHARED_VECTORS:-../../shared/test-vectors}
corpus=corpus
targets=(open pki_message open_with_key cert_rep_client ca_certs caps http_request csr ber pwri)

for t in "${targets[@]}"; do mkdir -p "$corpus/$t"; done

have_shared=false
if [ -d "$shared" ]; then
  have_shared=true
else
  echo "seed.sh: $shared not found; seeding from test-vectors/ only" >&2
fi
have_openssl=false
command -v openssl >/dev/null 2>&1 && have_openssl=true

# Files under the shared folder matching a find(1) -name pattern, sorted; nothing when
# the folder is absent.
shared_files() {
  $have_shared || return 0
  find "$shared" -type f -name "$1" | sort
}

# A corpus name for a source file: its path relative to the vector folder, flattened.
name_of() {
  local f=$1
  f=${f#"$shared"/}
  f=${f#"$repo_vectors"/}
  printf '%s' "${f//\//_}"
}

# seed TARGET FILE...: copies each file into the target's corpus.
seed() {
  local t=$1 f
  shift
  for f in "$@"; do
    [ -f "$f" ] && cp "$f" "$corpus/$t/$(name_of "$f")"
  done
  return 0
}

# The pkiMessages: requests and CertReps.
mapfile -t requests < <(
  ls "$sealed"/{pkcsreq,certpoll,getcert,getcrl}-*.der
  shared_files '*.request.der'
  $have_shared && ls "$shared"/smallstep/PKCSReq.der "$shared"/jscep/scep_req2.der
)
mapfile -t cert_reps < <(
  ls "$sealed"/certrep-*.der
  shared_files '*response-CertRep-*.der'
  shared_files 'CertRep*.der'
  $have_shared && ls "$shared"/jscep/scep_resp2.der
)
for t in open pki_message open_with_key; do seed "$t" "${requests[@]}" "${cert_reps[@]}"; done
seed cert_rep_client "${cert_reps[@]}"

# GetCACert answers (bare certificates and certs-only SignedData) and decrypted CertRep
# payloads, which are certs-only SignedData too.
mapfile -t ca_certs < <(
  ls "$sealed"/getcacert-*.der
  shared_files '*GetCACert.response.der'
  shared_files '*.response.plain.der'
  $have_shared && ls "$shared"/jscep/scep_resp0.der
)
seed ca_certs "${ca_certs[@]}"

# GetCACaps bodies.
mapfile -t caps < <(shared_files '*GetCACaps.response.txt')
seed caps "${caps[@]}"
printf 'AES\nPOSTPKIOperation\nRenewal\nSHA-256\nSCEPStandard' > "$corpus/caps/scep-standard.txt"
printf '\xef\xbb\xbfRenewal\r\nSHA-1\r\nDES3\r\n\r\nx-vendor-keyword\r\n' > "$corpus/caps/crlf-bom-unknown.txt"

# HTTP requests in the http_request framing (see scep::fuzzing::split_http_input): one
# octet selecting the method (0 GET, 1 POST), the query length in two octets big-endian,
# the query, then the body (a POST's body is the .request.der recorded beside it).
http_seed() { # method query body-file-or-empty out
  local sel len
  case $1 in GET) sel=0 ;; POST) sel=1 ;; *) sel=2 ;; esac
  len=${#2}
  [ "$len" -le 65535 ] || return 0
  printf "\\$(printf %03o "$sel")\\$(printf %03o $((len >> 8)))\\$(printf %03o $((len & 255)))" > "$4"
  printf '%s' "$2" >> "$4"
  if [ -n "$3" ]; then cat "$3" >> "$4"; fi
}
while IFS= read -r f; do
  method=$(sed -n 's/^method: //p' "$f" | head -n 1)
  query=$(sed -n 's/^query: //p' "$f" | head -n 1)
  body=
  [ "$method" = POST ] && body=${f%.http-request.txt}.request.der
  [ -z "$body" ] || [ -f "$body" ] || body=
  http_seed "$method" "$query" "$body" "$corpus/http_request/$(name_of "${f%.txt}")"
done < <(shared_files '*.http-request.txt')
http_seed GET 'operation=GetCACaps' '' "$corpus/http_request/get-cacaps"
http_seed GET 'operation=GetCACert&message=ca%201' '' "$corpus/http_request/get-cacert-ident"
http_seed GET 'operation=GetNextCACert' '' "$corpus/http_request/get-nextcacert"
http_seed POST 'operation=PKIOperation' "$sealed/pkcsreq-ec-aes128-sha256.der" \
  "$corpus/http_request/post-pkcsreq"
http_seed GET "operation=PKIOperation&message=$(base64 -w0 "$sealed/getcrl-ec-aes256-sha384.der" |
  sed 's/+/%2B/g; s/\//%2F/g; s/=/%3D/g')" '' "$corpus/http_request/get-getcrl"

# Envelopes and decrypted payloads, extracted from the messages with openssl.
extract_envelope() { # message out
  openssl cms -verify -noverify -nosigs -inform DER -in "$1" -binary -out "$2" 2>/dev/null
}
if $have_openssl; then
  for f in "${requests[@]}" "${cert_reps[@]}"; do
    out=$corpus/pwri/$(name_of "$f").envelope
    extract_envelope "$f" "$out" || rm -f "$out"
    [ -s "$out" ] || rm -f "$out"
  done
  # The sealed requests' payloads (CSR, IssuerAndSubject, IssuerAndSerialNumber).
  for f in "$sealed"/{pkcsreq,certpoll,getcert,getcrl}-*.der; do
    env=$(mktemp)
    out=$corpus/csr/$(name_of "$f").plain
    if extract_envelope "$f" "$env" &&
      openssl cms -decrypt -inform DER -in "$env" -inkey "$sealed/ca.key.pem" -binary \
        -out "$out" 2>/dev/null; then :; else rm -f "$out"; fi
    rm -f "$env"
  done
else
  echo "seed.sh: openssl not found; no envelope or sealed payload seeds" >&2
fi
if $have_shared; then
  seed pwri "$shared"/jscep/scep_req1.der "$shared"/jscep/scep_resp1.der
fi

# PKCS #10 requests and the other request payloads.
mapfile -t payloads < <(
  shared_files '*.request.plain.der'
  $have_shared && ls "$shared"/jscep/scep_req0.der
)
seed csr "${payloads[@]}"

# The normaliser takes everything DER or BER.
mapfile -t all_der < <(ls "$repo_vectors"/*/*.der; shared_files '*.der')
seed ber "${all_der[@]}"
cp "$corpus"/pwri/* "$corpus/ber/" 2>/dev/null || true
printf '\x30\x80\x24\x80\x04\x01\xaa\x04\x01\xbb\x00\x00\x00\x00' > "$corpus/ber/indefinite.ber"

for t in "${targets[@]}"; do
  printf '%-16s %4d seeds\n' "$t" "$(find "$corpus/$t" -type f | wc -l)"
done
