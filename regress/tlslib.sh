# Certificates for the TLS tests, made with the openssl command: sourced
# by regress/rig.sh (dockerd's --tlsverify port) and regress/tests/tls.sh.
#
#   tls_ca DIR NAME [rsa|ec]	a CA in DIR (ca.pem, ca.key, and what
#				"openssl ca" keeps: index, serial, CRL
#				number); its subject is "CN=NAME"
#   tls_subca CADIR DIR NAME [rsa|ec]
#				an intermediate CA in DIR, as tls_ca makes,
#				signed by the CA in CADIR (revoke it with
#				tls_revoke CADIR DIR/ca.pem)
#   tls_cert CADIR OUT server|client SUBJECT rsa|ec SAN [START END]
#				OUT.pem (leaf only) and OUT.key, signed by
#				the CA in CADIR; SUBJECT like "/CN=a/O=b";
#				SAN like "IP:127.0.0.1,DNS:localhost";
#				START and END (YYYYMMDDHHMMSSZ) make a
#				certificate valid then, e.g. in the past
#   tls_revoke CADIR CERT	revoke CERT (a .pem made by tls_cert)
#   tls_crl CADIR OUT		the CA's current CRL, PEM, into OUT
#
# Keys: rsa is RSA 2048, ec is ECDSA P-256.  Every function returns
# non-zero and prints openssl's complaint when something fails.

_tls_openssl() {
	local out

	out=$(openssl "$@" 2>&1) && return 0
	printf 'openssl %s failed:\n%s\n' "$1" "$out" >&2
	return 1
}

_tls_newkey() {
	case $1 in
	rsa)	printf '%s\n' -newkey rsa:2048 ;;
	ec)	printf '%s\n' -newkey ec -pkeyopt ec_paramgen_curve:P-256 ;;
	*)	echo "tlslib: key type $1?" >&2; return 1 ;;
	esac
}

# The files "openssl ca" keeps for a CA in $1.
_tls_cadir() {
	local dir=$1

	mkdir -p "$dir/new" || return 1
	: >"$dir/index.txt"
	echo 1000 >"$dir/serial"
	echo 1000 >"$dir/crlnumber"
	cat >"$dir/ca.cnf" <<-CNF
	[ ca ]
	default_ca = this
	[ this ]
	database = $dir/index.txt
	new_certs_dir = $dir/new
	serial = $dir/serial
	crlnumber = $dir/crlnumber
	certificate = $dir/ca.pem
	private_key = $dir/ca.key
	default_md = sha256
	default_days = 2
	default_crl_days = 2
	policy = any
	unique_subject = no
	email_in_dn = no
	[ any ]
	commonName = supplied
	organizationName = optional
	organizationalUnitName = optional
	CNF
}

tls_ca() {
	local dir=$1 name=$2 type=${3:-ec}

	_tls_cadir "$dir" || return 1
	# shellcheck disable=SC2046
	_tls_openssl req -x509 $(_tls_newkey "$type") -nodes -sha256 \
	    -keyout "$dir/ca.key" -out "$dir/ca.pem" -days 2 \
	    -subj "/CN=$name" \
	    -addext basicConstraints=critical,CA:TRUE \
	    -addext keyUsage=critical,keyCertSign,cRLSign
}

tls_subca() {
	local ca=$1 dir=$2 name=$3 type=${4:-ec}

	_tls_cadir "$dir" || return 1
	cat >"$dir/ca.ext" <<-EXT
	[ ext ]
	basicConstraints = critical,CA:TRUE
	keyUsage = critical,keyCertSign,cRLSign
	EXT
	# shellcheck disable=SC2046
	_tls_openssl req -new $(_tls_newkey "$type") -nodes \
	    -keyout "$dir/ca.key" -out "$dir/ca.csr" -subj "/CN=$name" ||
	    return 1
	_tls_openssl ca -batch -notext -config "$ca/ca.cnf" \
	    -in "$dir/ca.csr" -out "$dir/ca.pem" -extfile "$dir/ca.ext" \
	    -extensions ext -days 2 || return 1
	rm -f "$dir/ca.csr" "$dir/ca.ext"
}

tls_cert() {
	local ca=$1 out=$2 kind=$3 subj=$4 type=$5 san=$6 start=${7:-} \
	    end=${8:-} eku ku dates

	case $kind in
	server)	eku=serverAuth ;;
	client)	eku=clientAuth ;;
	*)	echo "tlslib: server or client, not $kind" >&2; return 1 ;;
	esac
	ku=digitalSignature
	[ "$type" = rsa ] && ku=$ku,keyEncipherment
	cat >"$out.ext" <<-EXT
	[ ext ]
	basicConstraints = critical,CA:FALSE
	keyUsage = critical,$ku
	extendedKeyUsage = $eku
	subjectAltName = $san
	EXT
	# shellcheck disable=SC2046
	_tls_openssl req -new $(_tls_newkey "$type") -nodes \
	    -keyout "$out.key" -out "$out.csr" -subj "$subj" || return 1
	dates="-days 2"
	[ -n "$start" ] && dates="-startdate $start -enddate $end"
	# shellcheck disable=SC2086
	_tls_openssl ca -batch -notext -config "$ca/ca.cnf" \
	    -in "$out.csr" -out "$out.pem" -extfile "$out.ext" \
	    -extensions ext $dates || return 1
	rm -f "$out.csr" "$out.ext"
}

tls_revoke() {
	_tls_openssl ca -batch -config "$1/ca.cnf" -revoke "$2"
}

tls_crl() {
	_tls_openssl ca -batch -config "$1/ca.cnf" -gencrl -out "$2"
}
