# The variables of a conda-like prefix that conda sets at activation, read at every kernel start
# by the launch script (src/environment/script.ts puts this program in it), which evals what it
# prints. No Python or conda runs for this; any POSIX awk does (mawk, the default on Debian; gawk).
#   LC_ALL=C awk PROGRAM STATE [ENV_VARS_D_FILE...]
# STATE is conda-meta/state, or "" when there is none; the env_vars.d/*.json files come in name
# order. As conda does: every env_vars.d file, then the env_vars object of state, which wins
# (later lines win when the shell runs them); ***unset*** unsets; PATH is reserved and ignored.
# Prints one command a line, for the shell: export NAME=VALUE and unset NAME, warn MESSAGE for
# what is skipped (a file that is not JSON, a name the shell cannot export, a value that is not
# a string), and lj_read=1 last, which says that everything was read. Every VALUE and MESSAGE
# is single-quoted; NAME is checked to be a shell name. JSON is read as Python reads it (conda
# uses json.loads): escapes decoded, \uXXXX and surrogate pairs written as UTF-8; in the C
# locale, as bytes. This text is single-quoted in the launch script: it holds no single quote.
BEGIN {
  for (i = 1; i < 256; i++) chr[i] = sprintf("%c", i)
  ctrl = ""
  for (i = 1; i < 32; i++) ctrl = ctrl chr[i]
  q = chr[39]
  hex = "0123456789abcdef"
  for (i = 2; i < ARGC; i++) read(ARGV[i], 0)
  if (ARGV[1] != "") read(ARGV[1], 1)
  print "lj_read=1"
  exit 0
}

# Reads one file (is_state: conda-meta/state) and prints its commands, or one warning.
function read(path, is_state,    line, r, first, ok, top) {
  s = ""
  first = 1
  while ((r = (getline line < path)) > 0) {
    s = first ? line : s "\n" line
    first = 0
  }
  close(path)
  if (r < 0) {
    print "warn " quote(path " cannot be read; its variables are skipped")
    return
  }
  n = length(s)
  p = 1
  err = ""
  vout = ""
  wout = ""
  where = is_state ? path " (env_vars)" : path
  ws()
  top = substr(s, p, 1)
  if (top == "{") ok = object(is_state ? 2 : 1, 1)
  else ok = value(1) != ""
  if (ok) {
    ws()
    if (p <= n) ok = fail("there is more after the JSON")
  }
  if (ok && top != "{") {
    print "warn " quote(path " is not a JSON object; its variables are skipped")
    return
  }
  if (!ok) {
    print "warn " quote(path " is not valid JSON (" err ", at byte " p "); its variables are skipped")
    return
  }
  printf "%s%s", wout, vout
}

# Records why the file is not JSON (the first reason); returns "", which is false.
function fail(why) {
  if (err == "") err = why
  return ""
}

function ws(    c) {
  while (p <= n) {
    c = substr(s, p, 1)
    if (c == " " || c == "\t" || c == "\n" || c == "\r") p++
    else break
  }
}

# Any JSON value: returns its kind ("s" a string, in str; "o", "a", "n", "l") or "" when invalid.
function value(depth,    c) {
  if (depth > 200) return fail("it nests too deeply")
  ws()
  c = substr(s, p, 1)
  if (c == "\"") return string() ? "s" : ""
  if (c == "{") return object(0, depth + 1) ? "o" : ""
  if (c == "[") return array(depth + 1) ? "a" : ""
  if (word("true") || word("false") || word("null")) return "l"
  if (word("NaN") || word("Infinity") || word("-Infinity")) return "n"
  if (match(substr(s, p), /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/)) {
    p += RLENGTH
    return "n"
  }
  if (p > n) return fail("it ends too soon")
  return fail("a value was expected")
}

function word(w) {
  if (substr(s, p, length(w)) != w) return 0
  p += length(w)
  return 1
}

# An object; mode 1: its members are variables; mode 2: state, whose env_vars member is.
function object(mode, depth,    key, t, c) {
  p++
  ws()
  if (substr(s, p, 1) == "}") {
    p++
    return 1
  }
  for (;;) {
    ws()
    if (substr(s, p, 1) != "\"") return fail("a name in double quotes was expected")
    if (!string()) return 0
    key = str
    ws()
    if (substr(s, p, 1) != ":") return fail("a colon was expected")
    p++
    ws()
    if (mode == 2 && key == "env_vars") {
      # A later env_vars replaces an earlier one, as in a Python dict.
      vout = ""
      wout = ""
      if (substr(s, p, 1) == "{") {
        if (!object(1, depth + 1)) return 0
      } else {
        if (value(depth + 1) == "") return 0
        warning(where " is not a JSON object; its variables are skipped")
      }
    } else {
      t = value(depth + 1)
      if (t == "") return 0
      if (mode == 1) variable(key, t)
    }
    ws()
    c = substr(s, p, 1)
    if (c == "}") {
      p++
      return 1
    }
    if (c != ",") return fail(p > n ? "it ends too soon" : "a comma or a closing brace was expected")
    p++
  }
}

function array(depth,    c) {
  p++
  ws()
  if (substr(s, p, 1) == "]") {
    p++
    return 1
  }
  for (;;) {
    if (value(depth + 1) == "") return 0
    ws()
    c = substr(s, p, 1)
    if (c == "]") {
      p++
      return 1
    }
    if (c != ",") return fail(p > n ? "it ends too soon" : "a comma or a closing bracket was expected")
    p++
  }
}

# A member of a variables object; its value is in str when t is "s".
function variable(key, t) {
  if (key == "PATH") return
  if (key !~ /^[A-Za-z_][A-Za-z0-9_]*$/) {
    warning(where " sets \"" shown(key) "\", which is not a variable name; ignored")
  } else if (t != "s") {
    warning(where ": the value of " key " is not a string; ignored")
  } else if (bad != "") {
    warning(where ": the value of " key " " bad "; ignored")
  } else if (str == "***unset***") {
    vout = vout "unset " key "\n"
  } else {
    vout = vout "export " key "=" quote(str) "\n"
  }
}

function warning(message) {
  wout = wout "warn " quote(message) "\n"
}

# A string at p, decoded into str; bad says why no environment can hold it (else "").
function string(    c, e, u, v) {
  str = ""
  bad = ""
  p++
  while (p <= n) {
    c = substr(s, p, 1)
    if (c == "\"") {
      p++
      return 1
    }
    if (c != "\\") {
      if (index(ctrl, c)) return fail("a control character is in a string")
      str = str c
      p++
      continue
    }
    e = substr(s, p + 1, 1)
    p += 2
    if (e == "\"" || e == "\\" || e == "/") str = str e
    else if (e == "b") str = str chr[8]
    else if (e == "f") str = str chr[12]
    else if (e == "n") str = str chr[10]
    else if (e == "r") str = str chr[13]
    else if (e == "t") str = str chr[9]
    else if (e != "u") return fail("a string has an unknown escape")
    else {
      u = hex4(p)
      if (u < 0) return fail("a string has a bad \\u escape")
      p += 4
      if (u >= 55296 && u < 56320 && substr(s, p, 2) == "\\u") {
        v = hex4(p + 2)
        if (v >= 56320 && v < 57344) {
          u = 65536 + (u - 55296) * 1024 + (v - 56320)
          p += 6
        }
      }
      if (u >= 55296 && u < 57344) bad = "holds a lone surrogate, which is not Unicode"
      else if (u == 0) bad = "holds a NUL character, which no variable can"
      else str = str utf8(u)
    }
  }
  return fail("a string does not end")
}

function hex4(at,    i, c, d, v) {
  v = 0
  for (i = 0; i < 4; i++) {
    c = substr(s, at + i, 1)
    if (c == "") return -1
    d = index(hex, tolower(c))
    if (!d) return -1
    v = v * 16 + d - 1
  }
  return v
}

function utf8(u) {
  if (u < 128) return chr[u]
  if (u < 2048) return chr[192 + int(u / 64)] chr[128 + u % 64]
  if (u < 65536) return chr[224 + int(u / 4096)] chr[128 + int(u / 64) % 64] chr[128 + u % 64]
  return chr[240 + int(u / 262144)] chr[128 + int(u / 4096) % 64] chr[128 + int(u / 64) % 64] \
    chr[128 + u % 64]
}

# Single quotes for the shell: every character literal; a single quote ends the quoting, is
# itself double-quoted, and the quoting starts again.
function quote(v) {
  gsub(q, q "\"" q "\"" q, v)
  return q v q
}

# A name as a warning shows it: control characters as "?".
function shown(k,    i, c, out) {
  out = ""
  for (i = 1; i <= length(k); i++) {
    c = substr(k, i, 1)
    out = out (index(ctrl, c) ? "?" : c)
  }
  return out
}
