# Doxygen input filter for include/ (docs/api/Doxyfile): the headers are documented in plain C
# comments (the house style), and Doxygen reads only its own markers. This turns
#  - the file's opening comment into its @file block (@file goes before the comment's end);
#  - a comment on lines of its own into the documentation of what follows it, and when a run of
#    top-level declarations follows without a blank line ("size_t rows(...); size_t cols(...);"), into the
#    documentation of each of them (a member group, DISTRIBUTE_GROUP_DOC in the Doxyfile);
#  - a comment after code on the same line into the documentation of that member (/**< */).
# Section rules (/* ---- name ---- */) stay plain comments. Lines are only edited, never added or
# removed, so the line numbers in Doxygen's warnings are the header's own.
function starts_comment(s) { return s ~ /^[ \t]*\/\*/ }
function blank(s) { return s !~ /[^ \t]/ }
{ L[NR] = $0 }
END {
    incomment = 0; first = 1; infile = 0
    for (i = 1; i <= NR; i++) {
        line = L[i]
        docend = 0
        if (!incomment && line ~ /^[ \t]*\/\* ----/) {
            first = 0
        } else if (!incomment && line ~ /^[ \t]*\/\*[^*]/) {
            sub(/\/\*/, "/**", line)
            if (first) infile = 1
            else docstart = i
            first = 0
        } else if (!incomment && line ~ /[^ \t].*\/\*/ && line !~ /^[ \t]*\/\// &&
               line !~ /^#[ \t]*(if|ifdef|ifndef|endif|include|else|elif|pragma)/) {
            sub(/\/\*/, "/**<", line)
            first = 0
        } else if (!incomment && !blank(line)) {
            first = 0
        }
        if (infile && index(line, "*/")) {
            sub(/\*\//, "@file */", line)
            infile = 0
        }
        # does the line end inside a comment?
        tmp = line
        while (1) {
            if (!incomment) {
                p = index(tmp, "/*")
                if (!p) break
                incomment = 1
                tmp = substr(tmp, p + 2)
            } else {
                p = index(tmp, "*/")
                if (!p) break
                incomment = 0
                tmp = substr(tmp, p + 2)
                if (docstart) docend = 1
            }
        }
        gsub(/<stdin>/, "\\<stdin\\>", line) # the name messages give standard input, not HTML
        out[i] = line
        if (docend && !incomment) {
            toplevel = L[docstart] ~ /^\/\*/ # groups only outside structs and enums
            docstart = 0
            # the run of declarations right after the comment: group it when it holds several
            j = i + 1; n = 0; last = 0
            while (j <= NR && !blank(L[j]) && !starts_comment(L[j]) &&
                   (L[j] !~ /^#/ || L[j] ~ /^#define/) &&
                   L[j] !~ /^(typedef )?(struct|enum|union)/ && L[j] !~ /[{}]/) {
                if (L[j] ~ /;[ \t]*(\/\*.*)?$/ || L[j] ~ /^#define/) { n++; last = j }
                j++
            }
            if (n >= 2 && toplevel) {
                grp_open[i] = 1
                if (last < NR) grp_close_before[last + 1] = 1 # a #define cannot end with it
                else grp_close[last] = 1
            }
        }
    }
    for (i = 1; i <= NR; i++) {
        line = out[i]
        if (i in grp_open) line = line " /**@{*/"
        if (i in grp_close) line = line " /**@}*/"
        if (i in grp_close_before) line = "/**@}*/ " line
        print line
    }
}
