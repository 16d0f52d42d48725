# Bash completion for steward: verbs, subcommands, options, fixed option values, paths, and
# dataset names from `steward search --json`. Works with or without the bash-completion
# package; installed as bash-completion/completions/steward (see completion/meson.build).

# The subcommands of a verb (empty for a verb without any).
_steward_subcommands() {
	case $1 in
	catalog) echo "load schema" ;;
	key) echo "init rotate retire list" ;;
	pii) echo "hash map check scan" ;;
	request) echo "new extend plan run list show" ;;
	audit) echo "verify checkpoint log recover prove consistency check-proof" ;;
	export) echo "openlineage" ;;
	token) echo "new list revoke" ;;
	esac
}

# The options of a verb (or "verb subcommand"), as its --help lists them, plus the common
# ones (steward version takes only --help).
_steward_options() {
	local o
	case $1 in
	init | catalog | key | pii | request | audit | export | token) o= ;;
	"catalog load") o="--check" ;;
	"catalog schema" | "key init" | "key rotate" | "key retire") o= ;;
	"key list" | "pii map" | "pii check" | "request plan" | "request show") o="--json" ;;
	search) o="--kind --tag --owner --domain --pii --limit --json" ;;
	show) o="--version --json" ;;
	lineage) o="--up --down --both --depth --json --dot --rejects" ;; # --rejects: lineage import
	ingest) o="--purpose --format --label --rejects --unknown --max-record --threads --pipeline
		   --brokers --source-topic --output-topic --rejects-topic --group --status-interval
		   --json" ;;
	"pii hash") o="--category --purpose --normalize --key --stdin" ;;
	"pii scan") o="--dataset --sample --dsn-file --dsn-env --json" ;;
	"request new") o="--subject --received --regime" ;;
	"request extend") o="--reason" ;;
	"request run") o="--due --exports" ;;
	"request list") o="--overdue --json" ;;
	"audit verify") o="--anchor --json" ;;
	"audit checkpoint") o="--export" ;;
	"audit log") o="--since --until --actor --action --object --outcome --limit --json" ;;
	"audit recover") o="--reason" ;;
	"audit prove" | "audit consistency") o="--json" ;;
	"audit check-proof") o="--public-key --json" ;;
	report) o="--period --format --output" ;;
	"export openlineage") o="--out" ;;
	serve) o="--listen --socket --no-tcp --threads" ;;
	"token new") o="--expires" ;;
	"token list") o="--json" ;;
	"token revoke") o= ;;
	version) echo "--help"; return ;;
	*) return ;;
	esac
	echo "$o --home --help"
}

# Whether option $2 of verb $1 takes a value.
_steward_takes_value() {
	case $2 in
	--home | --kind | --tag | --owner | --domain | --limit | --depth | --category | --purpose | \
		--normalize | --key | --dataset | --sample | --format | --label | --rejects | \
		--unknown | --max-record | --threads | --subject | --received | --regime | --reason | \
		--exports | --anchor | --export | --since | --until | --actor | --action | --object | \
		--outcome | --period | --output | --public-key | --out | --listen | --socket | --expires | \
		--dsn-file | --dsn-env)
		return 0 ;;
	--version) [ "$1" = show ] ;;
	*) return 1 ;;
	esac
}

# Dataset names that start with $3, from `steward [--home $2] search --json` (program $1).
# search needs a word with a letter or digit, so an empty word gets no names.
_steward_datasets() {
	local prog=$1 word=$3 query=$3 where=()
	[ -z "$2" ] || where=(--home "$2")
	query=${query//[^[:alnum:]._-]/ }
	[ -n "${query//[^[:alnum:]]/}" ] || return 0
	"$prog" "${where[@]}" search --json --limit 1000 -- "$query" 2>/dev/null </dev/null |
		sed -n 's/^    "name": "\([^"\\]*\)",\{0,1\}$/\1/p' |
		while IFS= read -r name; do
			case $name in "$word"*) printf '%s\n' "$name" ;; esac
		done
}

# Fills COMPREPLY with the words of list $1 that start with $2.
_steward_words() {
	local IFS=$' \t\n'
	# shellcheck disable=SC2207 # words without spaces, as compgen gives them
	COMPREPLY+=($(compgen -W "$1" -- "$2"))
}

# Fills COMPREPLY with file names (-f) or directory names (-d) that start with $2.
_steward_paths() {
	local IFS=$'\n'
	compopt -o filenames 2>/dev/null
	# shellcheck disable=SC2207 # one name per line
	COMPREPLY+=($(compgen "$1" -- "$2"))
}

# The values of option $2 of verb $1 (program $3, workspace $4) that start with $5.
_steward_values() {
	local verb=$1 opt=$2 prog=$3 home=$4 cur=$5
	case $opt in
	--home | --exports) _steward_paths -d "$cur" ;;
	--rejects | --output | --anchor | --export | --public-key | --out | --socket) _steward_paths -f "$cur" ;;
	--format)
		case $verb in
		ingest) _steward_words "jsonl csv" "$cur" ;;
		report) _steward_words "md html json csv" "$cur" ;;
		esac ;;
	--kind) _steward_words "event table topic file model dashboard source term application" "$cur" ;;
	--unknown) _steward_words "reject drop" "$cur" ;;
	--normalize) _steward_words "email phone ip none" "$cur" ;;
	--regime) _steward_words "gdpr ccpa" "$cur" ;;
	--outcome) _steward_words "ok denied error" "$cur" ;;
	--action)
		_steward_words "catalog.search catalog.show catalog.lineage catalog.load catalog.check
			catalog.export catalog.import
			pii.ingest pii.map pii.check pii.scan pii.hash key.init key.rotate key.retire
			key.list request.new request.extend request.plan request.run request.list
			request.show audit.verify audit.log audit.checkpoint audit.recover audit.prove
			audit.consistency report workspace.init serve serve.whoami token.new token.list
			token.revoke catalog.* pii.* key.* request.* audit.* serve.* token.*" "$cur" ;;
	--period) _steward_words "$(date -u +%Y-%m 2>/dev/null)" "$cur" ;;
	--dataset)
		local IFS=$'\n'
		# shellcheck disable=SC2207 # one name per line
		COMPREPLY+=($(_steward_datasets "$prog" "$home" "$cur")) ;;
	esac
}

_steward() {
	local i t w=() raw=${COMP_WORDS[COMP_CWORD]-}
	COMPREPLY=()
	# Join "--opt" "=" "value", which bash splits at '=' (COMP_WORDBREAKS), into one word.
	for ((i = 0; i <= COMP_CWORD && i < ${#COMP_WORDS[@]}; i++)); do
		t=${COMP_WORDS[i]}
		if [ ${#w[@]} -gt 1 ] && [[ ${w[-1]} == --* ]] &&
			{ [ "$t" = "=" ] && [[ ${w[-1]} != *=* ]] || [[ ${w[-1]} == *= ]]; }; then
			w[-1]+=$t
		else
			w+=("$t")
		fi
	done
	[ "$COMP_CWORD" -lt "${#COMP_WORDS[@]}" ] || w+=("")

	local prog=${w[0]} cur=${w[-1]} n=$((${#w[@]} - 1))
	[[ $prog == \~/* ]] && prog=$HOME/${prog#\~/}
	local home='' verb='' sub='' prev='' args=() before=1
	# Walk the words before the current one: the --home value, the verb, its subcommand,
	# the positional arguments, and the option whose value is being typed.
	for ((i = 1; i < n; i++)); do
		t=${w[i]}
		if [ -n "$prev" ]; then
			[ "$prev" = --home ] && home=$t
			prev=
			continue
		fi
		case $t in
		--home=*) home=${t#--home=} ;;
		--*=*) ;;
		-*)
			if [ -z "$verb" ]; then
				[ "$t" = --home ] && prev=$t
			elif [ "$t" = -- ]; then
				before=0
			elif [ $before = 1 ] && _steward_takes_value "$verb" "$t"; then
				prev=$t
			fi ;;
		*)
			if [ -z "$verb" ]; then
				verb=$t
			elif [ -z "$sub" ] && [ ${#args[@]} -eq 0 ] && [ -n "$(_steward_subcommands "$verb")" ]; then
				sub=$t
			else
				args+=("$t")
			fi ;;
		esac
	done
	[[ $home == \~/* ]] && home=$HOME/${home#\~/}
	local cmd=$verb
	[ -n "$sub" ] && cmd="$verb $sub"

	# The value of an option: after "--opt", or in "--opt=value".
	if [ -n "$prev" ]; then
		_steward_values "${verb}" "$prev" "$prog" "$home" "$cur"
		return 0
	fi
	if [[ $cur == --*=* ]]; then
		local opt=${cur%%=*} val=${cur#*=}
		[ -n "$verb" ] || [ "$opt" = --home ] || return 0
		_steward_values "${verb}" "$opt" "$prog" "$home" "$val"
		# Without '=' in COMP_WORDBREAKS the word is the whole "--opt=value".
		if [[ $raw == --*=* ]]; then
			for i in "${!COMPREPLY[@]}"; do COMPREPLY[i]=$opt=${COMPREPLY[i]}; done
		fi
		return 0
	fi

	if [ -z "$verb" ]; then
		case $cur in
		-*) _steward_words "--home --help --version" "$cur" ;;
		*) _steward_words "init catalog search show lineage key pii ingest request audit
			report export serve token version help" "$cur" ;;
		esac
		return 0
	fi
	if [ "$verb" = help ]; then
		[ ${#args[@]} -eq 0 ] && _steward_words "init catalog search show lineage key pii
			ingest request audit report export serve token version" "$cur"
		return 0
	fi
	local subs
	subs=$(_steward_subcommands "$verb")
	if [ -n "$subs" ] && [ -z "$sub" ]; then
		case $cur in
		-*) _steward_words "--home --help" "$cur" ;;
		*) _steward_words "$subs" "$cur" ;;
		esac
		return 0
	fi
	if [[ $cur == -* ]] && [ $before = 1 ]; then
		_steward_words "$(_steward_options "$cmd")" "$cur"
		return 0
	fi

	# Positional arguments.
	case $cmd in
	init) [ ${#args[@]} -eq 0 ] && _steward_paths -d "$cur" ;;
	"catalog load") _steward_paths -f "$cur" ;;
	show | lineage | ingest)
		if [ ${#args[@]} -eq 0 ]; then
			local IFS=$'\n'
			# shellcheck disable=SC2207 # one name per line
			COMPREPLY=($(_steward_datasets "$prog" "$home" "$cur"))
		fi ;;
	"export openlineage")
		local IFS=$'\n'
		# shellcheck disable=SC2207 # one name per line
		COMPREPLY=($(_steward_datasets "$prog" "$home" "$cur")) ;;
	"pii scan") [ ${#args[@]} -eq 0 ] && _steward_paths -f "$cur" ;;
	"request new") [ ${#args[@]} -eq 0 ] && _steward_words "erase access object" "$cur" ;;
	"audit consistency" | "audit check-proof") [ ${#args[@]} -eq 0 ] && _steward_paths -f "$cur" ;;
	esac
	return 0
}

complete -F _steward steward
