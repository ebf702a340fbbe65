#!/usr/bin/env python3
"""The side-by-side table of benches/README.md, from one run of both benchmarks.

    python3 benches/report.py [--aws-lc] GO_OUTPUT [CRITERION_DIR]

GO_OUTPUT is what `scep-go-bench` printed (`name iterations us/op` lines);
CRITERION_DIR is `target/criterion` by default (after `cargo bench --bench phases`).
`--aws-lc`: the run was `cargo bench --bench phases --features aws-lc-rs`, where the
pipeline verifies and encrypts with aws-lc (the default phases then count aws-lc's public
operations) and the `*_aws_lc` phases exist.
Prints a Markdown table: each phase, this crate's mean, micromdm's, the ratio
(micromdm / this crate: above 1 is faster here), the sum of the primitives the phase is
made of (measured alone in the same run) and the protocol overhead (phase minus
primitives, in % of the phase). The overhead includes the hashing and AES of the ~2 KB
message, so it is an upper bound of the crate's own work.
"""
import json
import os
import sys

# What each phase is made of: primitive -> count.
PHASES = {
    "round_trip": {"rsa2048_sign_pkcs1v15": 3, "rsa2048_decrypt_pkcs1v15": 2,
                   "rsa2048_verify_pkcs1v15": 3, "rsa2048_encrypt_pkcs1v15": 2},
    "client_build_pkcsreq": {"rsa2048_sign_pkcs1v15": 1, "rsa2048_encrypt_pkcs1v15": 1},
    "server_parse_verify_pkcsreq": {"rsa2048_verify_pkcs1v15": 1},
    "server_parse_verify_decrypt_pkcsreq": {"rsa2048_verify_pkcs1v15": 1,
                                            "rsa2048_decrypt_pkcs1v15": 1},
    "pkcs7_parse_only": {},
    "rsa2048_sign_pkcs1v15": None,  # a primitive itself
}


def mean_us(root, *parts):
    path = os.path.join(root, *parts, "new", "estimates.json")
    with open(path) as f:
        return json.load(f)["mean"]["point_estimate"] / 1000.0


AWS_LC_PHASES = {
    "round_trip_aws_lc": {"rsa2048_sign_pkcs1v15_aws_lc": 3,
                          "rsa2048_decrypt_pkcs1v15_aws_lc": 2,
                          "rsa2048_verify_pkcs1v15_aws_lc": 3,
                          "rsa2048_encrypt_pkcs1v15_aws_lc": 2},
    "rsa2048_sign_pkcs1v15_aws_lc": None,
    "rsa2048_decrypt_pkcs1v15_aws_lc": None,
}

# What the Go harness calls the phase an aws-lc phase stands beside.
GO_NAME = {"round_trip_aws_lc": "round_trip",
           "rsa2048_sign_pkcs1v15_aws_lc": "rsa2048_sign_pkcs1v15"}


def main():
    args = sys.argv[1:]
    aws_lc = "--aws-lc" in args
    args = [a for a in args if a != "--aws-lc"]
    go_path = args[0]
    root = args[1] if len(args) > 1 else "target/criterion"
    go = {}
    with open(go_path) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 3:
                go[parts[0]] = float(parts[2])
    prim = {}
    for name in ["rsa2048_sign_pkcs1v15"]:
        prim[name] = mean_us(root, "phases", name)
    for name in ["rsa2048_verify_pkcs1v15", "rsa2048_encrypt_pkcs1v15",
                 "rsa2048_decrypt_pkcs1v15", "ecdsa_p256_sign", "ecdsa_p256_verify",
                 "aes128_cbc_encrypt_1kib", "sha256_1kib"]:
        prim[name] = mean_us(root, "primitives", name)
    phases = dict(PHASES)
    if aws_lc:
        for name in ["rsa2048_sign_pkcs1v15_aws_lc", "rsa2048_decrypt_pkcs1v15_aws_lc"]:
            prim[name] = mean_us(root, "phases", name)
        for name in ["rsa2048_verify_pkcs1v15_aws_lc", "rsa2048_encrypt_pkcs1v15_aws_lc"]:
            prim[name] = mean_us(root, "primitives", name)
        # The pipeline's own verifications and encryptions are aws-lc's in this build.
        for phase, parts in phases.items():
            if parts:
                phases[phase] = {
                    (p + "_aws_lc" if p in ("rsa2048_verify_pkcs1v15",
                                            "rsa2048_encrypt_pkcs1v15") else p): n
                    for p, n in parts.items()}
        phases.update(AWS_LC_PHASES)
    print("| phase | this crate (µs) | micromdm (µs) | ratio | primitives (µs) | overhead |")
    print("|---|---:|---:|---:|---:|---:|")
    for phase, parts in phases.items():
        ours = mean_us(root, "phases", phase)
        theirs = go.get(GO_NAME.get(phase, phase))
        ratio = f"{theirs / ours:.2f}×" if theirs else "–"
        if parts is None:
            prims, over = "–", "–"
        else:
            total = sum(prim[p] * n for p, n in parts.items())
            prims = f"{total:.1f}"
            over = f"{(ours - total) / ours * 100:.1f} %" if parts else "100 %"
        go_text = f"{theirs:.1f}" if theirs else "–"
        print(f"| {phase} | {ours:.1f} | {go_text} | {ratio} | {prims} | {over} |")
    print()
    print("| primitive | this crate (µs) |")
    print("|---|---:|")
    for name, us in prim.items():
        print(f"| {name} | {us:.2f} |")
    for n in ["1000", "10000"]:
        print(f"| pbkdf2_hmac_sha256 ({n} iterations) | "
              f"{mean_us(root, 'primitives', 'pbkdf2_hmac_sha256', n):.1f} |")


if __name__ == "__main__":
    main()
