/*
 * Unit tests for policy/json.c: the strict JSON reader.  The vectors are
 * named after nst/JSONTestSuite's files where one applies (y_ accepted,
 * n_ refused, i_ implementation-defined: here refused or accepted as
 * noted); the ones this reader refuses on purpose say so.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "json.h"
#include "casefold.h"

struct vec {
	const char	*name;
	const char	*in;
	size_t		 len;
	int		 ok;
	const char	*why;		/* refused: a part of why, or NULL */
};

#define Y(n, s)		{ n, s, sizeof(s) - 1, 1, NULL }
#define N(n, s, w)	{ n, s, sizeof(s) - 1, 0, w }

#define UTF8	"invalid UTF-8"
#define SURR	"unpaired surrogate"
#define EOI	"unexpected end of input"
#define TRAIL	"trailing bytes"
#define NOVAL	"expected a value"
#define NUM	"invalid number"
#define LIT	"invalid literal"
#define CTRL	"control character"
#define ESC	"invalid escape"
#define UESC	"invalid \\u escape"
#define ACOMMA	"expected ',' or ']'"
#define OCOMMA	"expected ',' or '}'"
#define NAME	"expected a member name"
#define COLON	"expected ':'"
#define DUP	"duplicate key"

static const struct vec vecs[] = {
	/* accepted */
	Y("y_array_arraysWithSpaces", "[[]   ]"),
	Y("y_array_empty", "[]"),
	Y("y_array_empty-string", "[\"\"]"),
	Y("y_array_false", "[false]"),
	Y("y_array_heterogeneous", "[null, 1, \"1\", {}]"),
	Y("y_array_null", "[null]"),
	Y("y_array_with_1_and_newline", "[1\n]"),
	Y("y_array_with_leading_space", " [1]"),
	Y("y_array_with_several_null", "[1,null,null,null,2]"),
	Y("y_array_with_trailing_space", "[2] "),
	Y("y_number", "[123e65]"),
	Y("y_number_0e+1", "[0e+1]"),
	Y("y_number_0e1", "[0e1]"),
	Y("y_number_after_space", "[ 4]"),
	Y("y_number_double_close_to_zero", "[-0.0000000000000000000000000"
	    "00000000000000000000000000000000000000000000000000001]"),
	Y("y_number_int_with_exp", "[20e1]"),
	Y("y_number_minus_zero", "[-0]"),
	Y("y_number_negative_int", "[-123]"),
	Y("y_number_negative_one", "[-1]"),
	Y("y_number_real_capital_e", "[1E22]"),
	Y("y_number_real_capital_e_neg_exp", "[1E-2]"),
	Y("y_number_real_capital_e_pos_exp", "[1E+2]"),
	Y("y_number_real_exponent", "[123e45]"),
	Y("y_number_real_fraction_exponent", "[123.456e78]"),
	Y("y_number_real_neg_exp", "[1e-2]"),
	Y("y_number_real_pos_exponent", "[1e+2]"),
	Y("y_number_simple_int", "[123]"),
	Y("y_number_simple_real", "[123.456789]"),
	Y("y_object", "{\"asd\":\"sdf\", \"dfg\":\"fgh\"}"),
	Y("y_object_basic", "{\"asd\":\"sdf\"}"),
	Y("y_object_empty", "{}"),
	Y("y_object_empty_key", "{\"\":0}"),
	Y("y_object_extreme_numbers",
	    "{ \"min\": -1.0e+28, \"max\": 1.0e+28 }"),
	Y("y_object_simple", "{\"a\":[]}"),
	Y("y_object_string_unicode", "{\"title\":\"\\u041f\\u043e\\u043b"
	    "\\u0442\\u043e\\u0440\\u0430 \\u0417\\u0435\\u043c\\u043b"
	    "\\u0435\\u043a\\u043e\\u043f\\u0430\" }"),
	Y("y_object_with_newlines", "{\n\"a\": \"b\"\n}"),
	Y("y_string_1_2_3_bytes_UTF-8_sequences",
	    "[\"\\u0060\\u012a\\u12AB\"]"),
	Y("y_string_accepted_surrogate_pair", "[\"\\uD801\\udc37\"]"),
	Y("y_string_accepted_surrogate_pairs",
	    "[\"\\ud83d\\ude39\\ud83d\\udc8d\"]"),
	Y("y_string_allowed_escapes", "[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"]"),
	Y("y_string_backslash_and_u_escaped_zero", "[\"\\\\u0000\"]"),
	Y("y_string_backslash_doublequotes", "[\"\\\"\"]"),
	Y("y_string_comments", "[\"a/*b*/c/*d//e\"]"),
	Y("y_string_double_escape_a", "[\"\\\\a\"]"),
	Y("y_string_escaped_control_character", "[\"\\u0012\"]"),
	Y("y_string_escaped_noncharacter", "[\"\\uFFFF\"]"),
	Y("y_string_last_surrogates_1_and_2", "[\"\\uDBFF\\uDFFF\"]"),
	Y("y_string_nbsp_uescaped", "[\"new\\u00A0line\"]"),
	Y("y_string_nonCharacterInUTF-8_U+10FFFF", "[\"\xf4\x8f\xbf\xbf\"]"),
	Y("y_string_nonCharacterInUTF-8_U+FFFF", "[\"\xef\xbf\xbf\"]"),
	Y("y_string_null_escape", "[\"\\u0000\"]"),
	Y("y_string_pi", "[\"\xcf\x80\"]"),
	Y("y_string_reservedCharacterInUTF-8_U+1BFFF",
	    "[\"\xf0\x9b\xbf\xbf\"]"),
	Y("y_string_space", "\" \""),
	Y("y_string_surrogates_U+1D11E_MUSICAL_SYMBOL_G_CLEF",
	    "[\"\\uD834\\uDd1e\"]"),
	Y("y_string_u+2028_line_sep", "[\"\xe2\x80\xa8\"]"),
	Y("y_string_uEscape", "[\"\\u0061\\u30af\\u30EA\\u30b9\"]"),
	Y("y_string_unescaped_char_delete", "[\"\x7f\"]"),
	Y("y_string_utf8", "[\"\xe2\x82\xac\xf0\x9d\x84\x9e\"]"),
	Y("y_structure_lonely_false", "false"),
	Y("y_structure_lonely_int", "42"),
	Y("y_structure_lonely_negative_real", "-0.1"),
	Y("y_structure_lonely_null", "null"),
	Y("y_structure_lonely_string", "\"asd\""),
	Y("y_structure_lonely_true", "true"),
	Y("y_structure_string_empty", "\"\""),
	Y("y_structure_trailing_newline", "[\"a\"]\n"),
	Y("y_structure_whitespace_array", " [] "),
	Y("all four whitespace bytes", " \t\r\n{ \t\r\n\"a\" \t\r\n: \t\r\n"
	    "1 \t\r\n, \t\r\n\"b\"\t:[ 1 , 2 ]\r\n} \t\r\n"),
	Y("i_number_double_huge_neg_exp (kept as written)",
	    "[123.456e-789]"),
	Y("i_number_huge_exp (kept as written)",
	    "[0.4e006699999999999999999999999999999999999999999999]"),
	Y("i_number_very_big_negative_int",
	    "[-237462374673276894279832749832423479823246327846]"),

	/* refused on purpose: duplicates, NUL in a name, a BOM */
	N("y_object_duplicated_key (refused here)",
	    "{\"a\":\"b\",\"a\":\"c\"}", DUP),
	N("y_object_duplicated_key_and_value (refused here)",
	    "{\"a\":\"b\",\"a\":\"b\"}", DUP),
	N("y_object_escaped_null_in_key (refused here)",
	    "{\"foo\\u0000bar\": 42}", "NUL in a member name"),
	N("i_structure_UTF-8_BOM_empty_object", "\xef\xbb\xbf{}",
	    "byte order mark"),
	N("n_structure_UTF8_BOM_no_data", "\xef\xbb\xbf", "byte order mark"),
	N("n_structure_incomplete_UTF8_BOM", "\xef\xbb{}", NOVAL),

	/* arrays */
	N("n_array_1_true_without_comma", "[1 true]", ACOMMA),
	N("n_array_a_invalid_utf8", "[a\xe5]", NOVAL),
	N("n_array_colon_instead_of_comma", "[\"\": 1]", ACOMMA),
	N("n_array_comma_after_close", "[\"\"],", TRAIL),
	N("n_array_comma_and_number", "[,1]", NOVAL),
	N("n_array_double_comma", "[1,,2]", NOVAL),
	N("n_array_double_extra_comma", "[\"x\",,]", NOVAL),
	N("n_array_extra_close", "[\"x\"]]", TRAIL),
	N("n_array_extra_comma", "[\"\",]", NOVAL),
	N("n_array_incomplete", "[\"x\"", EOI),
	N("n_array_incomplete_invalid_value", "[x", NOVAL),
	N("n_array_inner_array_no_comma", "[3[4]]", ACOMMA),
	N("n_array_invalid_utf8", "[\xff]", NOVAL),
	N("n_array_items_separated_by_semicolon", "[1:2]", ACOMMA),
	N("n_array_just_comma", "[,]", NOVAL),
	N("n_array_just_minus", "[-]", NUM),
	N("n_array_missing_value", "[   , \"\"]", NOVAL),
	N("n_array_newlines_unclosed", "[\"a\",\n4\n,1,", EOI),
	N("n_array_number_and_comma", "[1,]", NOVAL),
	N("n_array_number_and_several_commas", "[1,,]", NOVAL),
	N("n_array_spaces_vertical_tab_formfeed", "[\"\x0b" "a\"\\f]", CTRL),
	N("n_array_star_inside", "[*]", NOVAL),
	N("n_array_unclosed", "[\"\"", EOI),
	N("n_array_unclosed_trailing_comma", "[1,", EOI),
	N("n_array_unclosed_with_new_lines", "[1,\n1\n,1", EOI),
	N("n_array_unclosed_with_object_inside", "[{}", EOI),
	N("n_incomplete_false", "[fals]", LIT),
	N("n_incomplete_null", "[nul]", LIT),
	N("n_incomplete_true", "[tru]", LIT),
	N("n_structure_capitalized_True", "[True]", NOVAL),

	/* numbers */
	N("n_number_++", "[++1234]", NOVAL),
	N("n_number_+1", "[+1]", NOVAL),
	N("n_number_+Inf", "[+Inf]", NOVAL),
	N("n_number_-01", "[-01]", "leading zero"),
	N("n_number_-1.0.", "[-1.0.]", ACOMMA),
	N("n_number_-2.", "[-2.]", NUM),
	N("n_number_-NaN", "[-NaN]", NUM),
	N("n_number_.-1", "[.-1]", NOVAL),
	N("n_number_.2e-3", "[.2e-3]", NOVAL),
	N("n_number_0.1.2", "[0.1.2]", ACOMMA),
	N("n_number_0.3e+", "[0.3e+]", NUM),
	N("n_number_0.3e", "[0.3e]", NUM),
	N("n_number_0.e1", "[0.e1]", NUM),
	N("n_number_0_capital_E+", "[0E+]", NUM),
	N("n_number_0e+", "[0e+]", NUM),
	N("n_number_1_000", "[1 000.0]", ACOMMA),
	N("n_number_1eE2", "[1eE2]", NUM),
	N("n_number_2.e+3", "[2.e+3]", NUM),
	N("n_number_Inf", "[Inf]", NOVAL),
	N("n_number_NaN", "[NaN]", NOVAL),
	N("n_number_U+FF11_fullwidth_digit_one", "[\xef\xbc\x91]", NOVAL),
	N("n_number_expression", "[1+2]", ACOMMA),
	N("n_number_hex_1_digit", "[0x1]", ACOMMA),
	N("n_number_hex_2_digits", "[0x42]", ACOMMA),
	N("n_number_infinity", "[Infinity]", NOVAL),
	N("n_number_minus_infinity", "[-Infinity]", NUM),
	N("n_number_minus_sign_with_trailing_garbage", "[-foo]", NUM),
	N("n_number_minus_space_1", "[- 1]", NUM),
	N("n_number_neg_int_starting_with_zero", "[-012]", "leading zero"),
	N("n_number_neg_real_without_int_part", "[-.123]", NUM),
	N("n_number_real_garbage_after_e", "[1ea]", NUM),
	N("n_number_real_without_fractional_part", "[1.]", NUM),
	N("n_number_starting_with_dot", "[.123]", NOVAL),
	N("n_number_with_leading_zero", "[012]", "leading zero"),
	N("n_number_lone_leading_zero", "00", "leading zero"),
	N("n_number_NaN_lonely", "NaN", NOVAL),

	/* objects */
	N("n_object_bad_value", "[\"x\", truth]", LIT),
	N("n_object_bracket_key", "{[: \"x\"}", NAME),
	N("n_object_comma_instead_of_colon", "{\"x\", null}", COLON),
	N("n_object_double_colon", "{\"x\"::\"b\"}", NOVAL),
	N("n_object_garbage_at_end", "{\"a\":\"a\" 123}", OCOMMA),
	N("n_object_key_with_single_quotes", "{key: 'value'}", NAME),
	N("n_object_missing_colon", "{\"a\" b}", COLON),
	N("n_object_missing_key", "{:\"b\"}", NAME),
	N("n_object_missing_semicolon", "{\"a\" \"b\"}", COLON),
	N("n_object_missing_value", "{\"a\":", EOI),
	N("n_object_no-colon", "{\"a\"", EOI),
	N("n_object_non_string_key", "{1:1}", NAME),
	N("n_object_repeated_null_null", "{null:null,null:null}", NAME),
	N("n_object_several_trailing_commas", "{\"id\":0,,,,,}", NAME),
	N("n_object_single_quote", "{'a':0}", NAME),
	N("n_object_trailing_comma", "{\"id\":0,}", NAME),
	N("n_object_trailing_comment", "{\"a\":\"b\"}/**/", TRAIL),
	N("n_object_trailing_comment_slash_open", "{\"a\":\"b\"}//", TRAIL),
	N("n_object_two_commas_in_a_row", "{\"a\":\"b\",,\"c\":\"d\"}", NAME),
	N("n_object_unquoted_key", "{a: \"b\"}", NAME),
	N("n_object_unterminated-value", "{\"a\":\"a", EOI),
	N("n_object_with_trailing_garbage", "{\"a\": true} \"x\"", TRAIL),
	N("n_structure_object_with_comment", "{\"a\":/*comment*/\"b\"}",
	    NOVAL),

	/* strings */
	N("n_string_1_surrogate_then_escape", "[\"\\uD800\\\"]", SURR),
	N("n_string_1_surrogate_then_escape_u", "[\"\\uD800\\u\"]", UESC),
	N("n_string_1_surrogate_then_escape_u1", "[\"\\uD800\\u1\"]", UESC),
	N("n_string_1_surrogate_then_escape_u1x", "[\"\\uD800\\u1x\"]",
	    UESC),
	N("n_string_accentuated_char_no_quotes", "[\xc3\xa9]", NOVAL),
	N("n_string_backslash_00", "[\"\\\0\"]", ESC),
	N("n_string_escape_x", "[\"\\x00\"]", ESC),
	N("n_string_escaped_backslash_bad", "[\"\\\\\\\"]", EOI),
	N("n_string_escaped_ctrl_char_tab", "[\"\\\t\"]", ESC),
	N("n_string_escaped_emoji", "[\"\\\xf0\x9f\x8c\x80\"]", ESC),
	N("n_string_incomplete_escape", "[\"\\\"]", EOI),
	N("n_string_incomplete_escaped_character", "[\"\\u00A\"]", UESC),
	N("n_string_incomplete_surrogate", "[\"\\uD834\\uDd\"]", UESC),
	N("n_string_invalid_backslash_esc", "[\"\\a\"]", ESC),
	N("n_string_invalid_unicode_escape", "[\"\\uqqqq\"]", UESC),
	N("n_string_invalid_utf8_after_escape", "[\"\\\xe5\"]", ESC),
	N("n_string_leading_uescaped_thinspace", "[\\u0020\"asd\"]", NOVAL),
	N("n_string_no_quotes_with_bad_escape", "[\\n]", NOVAL),
	N("n_string_single_doublequote", "\"", EOI),
	N("n_string_single_quote", "['single quote']", NOVAL),
	N("n_string_single_string_no_double_quotes", "abc", NOVAL),
	N("n_string_start_escape_unclosed", "[\"\\", EOI),
	N("n_string_unescaped_ctrl_char", "[\"a\0a\"]", CTRL),
	N("n_string_unescaped_newline", "[\"new\nline\"]", CTRL),
	N("n_string_unescaped_tab", "[\"\t\"]", CTRL),
	N("n_string_unicode_CapitalU", "\"\\UA66D\"", ESC),
	N("n_string_with_trailing_garbage", "\"\"x", TRAIL),
	N("n_string_unescaped_DEL_is_fine_but_US_is_not", "[\"\x1f\"]", CTRL),
	/* i_ strings: refused here */
	N("i_string_1st_surrogate_but_2nd_missing", "[\"\\uDADA\"]", SURR),
	N("i_string_1st_valid_surrogate_2nd_invalid",
	    "[\"\\uD888\\u1234\"]", SURR),
	N("i_string_UTF-8_invalid_sequence",
	    "[\"\xe6\x97\xa5\xd1\x88\xfa\"]", UTF8),
	N("i_string_UTF8_surrogate_U+D800", "[\"\xed\xa0\x80\"]", UTF8),
	N("i_string_UTF8_surrogate_U+DFFF", "[\"\xed\xbf\xbf\"]", UTF8),
	N("i_string_incomplete_surrogate_and_escape_valid",
	    "[\"\\uD800\\n\"]", SURR),
	N("i_string_incomplete_surrogate_pair", "[\"\\uDd1ea\"]", SURR),
	N("i_string_incomplete_surrogates_escape_valid",
	    "[\"\\uD800\\uD800\\n\"]", SURR),
	N("i_string_invalid_lonely_surrogate", "[\"\\ud800\"]", SURR),
	N("i_string_invalid_surrogate", "[\"\\ud800abc\"]", SURR),
	N("i_string_invalid_utf-8", "[\"\xff\"]", UTF8),
	N("i_string_inverted_surrogates_U+1D11E", "[\"\\uDd1e\\uD834\"]",
	    SURR),
	N("i_string_iso_latin_1", "[\"\xe9\"]", UTF8),
	N("i_string_lone_second_surrogate", "[\"\\uDFAA\"]", SURR),
	N("i_string_lone_utf8_continuation_byte", "[\"\x81\"]", UTF8),
	N("i_string_not_in_unicode_range", "[\"\xf4\xbf\xbf\xbf\"]", UTF8),
	N("i_string_above_U+10FFFF", "[\"\xf4\x90\x80\x80\"]", UTF8),
	N("i_string_F5_lead", "[\"\xf5\x80\x80\x80\"]", UTF8),
	N("i_string_overlong_sequence_2_bytes", "[\"\xc0\xaf\"]", UTF8),
	N("i_string_overlong_C1", "[\"\xc1\xbf\"]", UTF8),
	N("i_string_overlong_3_bytes", "[\"\xe0\x80\xaf\"]", UTF8),
	N("i_string_overlong_4_bytes", "[\"\xf0\x80\x80\xaf\"]", UTF8),
	N("i_string_overlong_sequence_6_bytes",
	    "[\"\xfc\x83\xbf\xbf\xbf\xbf\"]", UTF8),
	N("i_string_overlong_sequence_6_bytes_null",
	    "[\"\xfc\x80\x80\x80\x80\x80\"]", UTF8),
	N("i_string_truncated-utf-8", "[\"\xe0\xff\"]", UTF8),
	N("i_string_truncated_at_end", "\"\xe2\x82", UTF8),
	N("i_string_truncated_before_quote", "[\"\xe2\x82\"]", UTF8),
	N("i_string_utf16BE_no_BOM", "\0[\0\"\0\xe9\0\"\0]", NOVAL),
	N("i_string_UTF-16LE_with_BOM", "\xff\xfe[\0\"\0\xe9\0\"\0]\0",
	    NOVAL),
	N("invalid UTF-8 in a member name", "{\"\xc0\xaf\":1}", UTF8),
	N("lone surrogate in a member name", "{\"\\udc00\":1}", SURR),

	/* structure */
	N("n_single_space", " ", EOI),
	N("n_structure_no_data", "", "empty input"),
	N("n_structure_angle_bracket_.", "<.>", NOVAL),
	N("n_structure_array_trailing_garbage", "[1]x", TRAIL),
	N("n_structure_array_with_extra_array_close", "[1]]", TRAIL),
	N("n_structure_array_with_unclosed_string", "[\"asd]", EOI),
	N("n_structure_ascii-unicode-identifier", "a\xc3\xa5", NOVAL),
	N("n_structure_close_unopened_array", "1]", TRAIL),
	N("n_structure_comma_instead_of_closing_brace", "{\"x\": true,",
	    EOI),
	N("n_structure_double_array", "[][]", TRAIL),
	N("n_structure_end_array", "]", NOVAL),
	N("n_structure_lone-invalid-utf-8", "\xe5", NOVAL),
	N("n_structure_lone-open-bracket", "[", EOI),
	N("n_structure_null-byte-outside-string", "[\0]", NOVAL),
	N("n_structure_number_with_trailing_garbage", "2@", TRAIL),
	N("n_structure_object_followed_by_closing_object", "{}}", TRAIL),
	N("n_structure_object_unclosed_no_value", "{\"\":", EOI),
	N("n_structure_open_array_apostrophe", "['", NOVAL),
	N("n_structure_open_array_comma", "[,", NOVAL),
	N("n_structure_open_object", "{", EOI),
	N("n_structure_single_star", "*", NOVAL),
	N("n_structure_trailing_#", "{\"a\":\"b\"}#{}", TRAIL),
	N("n_structure_uescaped_LF_before_string", "[\\u000A\"\"]", NOVAL),
	N("n_structure_unclosed_array", "[1", EOI),
	N("n_structure_unicode-identifier", "\xc3\xa5", NOVAL),
	N("n_structure_whitespace_formfeed", "[\f]", NOVAL),
	N("n_structure_whitespace_U+2060_word_joiner", "[\xe2\x81\xa0]",
	    NOVAL),
	N("n_structure_NBSP_as_whitespace", "[\xc2\xa0" "1]", NOVAL),
	N("n_structure_vertical_tab_as_whitespace", "[\x0b" "1]", NOVAL),
	N("n_structure_second_value", "{} {}", TRAIL),
	N("n_structure_trailing_NUL", "{}\0", TRAIL),
	N("n_structure_open_array_object", "[{\"\":[{\"\":", EOI),
};

static const struct json_limits	 deflim = {
	JSON_SIZE_MAX, JSON_DEPTH_MAX, JSON_ITEMS_MAX, 0
};

START_TEST(test_json_vectors)
{
	const struct vec	*v = &vecs[_i];
	struct json_doc		*d;
	const char		*why = NULL;
	size_t			 off = 0;

	d = json_parse(v->in, v->len, NULL, &why, &off);
	if (v->ok) {
		ck_assert_msg(d != NULL, "%s: refused: %s at %zu", v->name,
		    why, off);
		ck_assert_ptr_null(why);
		json_free(d);
		return;
	}
	ck_assert_msg(d == NULL, "%s: accepted", v->name);
	ck_assert_ptr_nonnull(why);
	ck_assert_uint_le(off, v->len);
	if (v->why != NULL)
		ck_assert_msg(strstr(why, v->why) != NULL,
		    "%s: why \"%s\", want \"%s\"", v->name, why, v->why);
}
END_TEST

/* A refusal and where it was found. */
static void
refused_at(const char *in, const char *want, size_t wantoff)
{
	const char	*why;
	size_t		 off;

	ck_assert_ptr_null(json_parse(in, strlen(in), NULL, &why, &off));
	ck_assert_msg(strcmp(why, want) == 0, "%s: why \"%s\", want \"%s\"",
	    in, why, want);
	ck_assert_msg(off == wantoff, "%s: at %zu, want %zu", in, off,
	    wantoff);
}

START_TEST(test_json_offsets)
{
	refused_at("[1,]", "expected a value", 3);
	refused_at("[1,2] x", "trailing bytes after the value", 6);
	refused_at("{\"a\":1,\"b\":2,\"A\":3}", "duplicate key", 13);
	refused_at("{\"a\":1, \"a\":2, \"a\":3}", "duplicate key", 8);
	refused_at("[\"ab\tc\"]", "control character in a string", 4);
	refused_at("[\"\\ud800x\"]", "unpaired surrogate in a \\u escape", 2);
	refused_at("[\"ok\xff\"]", "invalid UTF-8 in a string", 4);
	refused_at("[007]", "leading zero in a number", 1);
	refused_at("[\"abc", "unexpected end of input", 5);
	refused_at("{\"x\":1,\"a\\u0000\":2}", "NUL in a member name", 7);
	refused_at("", "empty input", 0);
}
END_TEST

static struct json_doc *
parse_ok(const char *in)
{
	struct json_doc	*d;
	const char	*why;
	size_t		 off;

	d = json_parse(in, strlen(in), NULL, &why, &off);
	ck_assert_msg(d != NULL, "%s: %s at %zu", in, why, off);
	return d;
}

static const char *
dup_why(const char *in)
{
	struct json_doc	*d;
	const char	*why;
	size_t		 off;

	d = json_parse(in, strlen(in), NULL, &why, &off);
	if (d != NULL) {
		json_free(d);
		return "accepted";
	}
	return why;
}

#define ASSERT_DUP(s)	ck_assert_str_eq(dup_why(s), "duplicate key")

START_TEST(test_json_duplicates)
{
	/* both orders */
	ASSERT_DUP("{\"Privileged\":true,\"Privileged\":false}");
	ASSERT_DUP("{\"Privileged\":false,\"Privileged\":true}");
	/* differing in case only, both orders */
	ASSERT_DUP("{\"Privileged\":false,\"privileged\":true}");
	ASSERT_DUP("{\"privileged\":true,\"Privileged\":false}");
	ASSERT_DUP("{\"PRIVILEGED\":true,\"pRiViLeGeD\":false}");
	/* \u escapes decoded first */
	ASSERT_DUP("{\"\\u0050rivileged\":true,\"Privileged\":false}");
	ASSERT_DUP("{\"Privileged\":false,\"\\u0070rivileged\":true}");
	ASSERT_DUP("{\"\\u0050\\u0072ivileged\":1,\"PRIVILEGED\":2}");
	ASSERT_DUP("{\"a\\/b\":1,\"a/b\":2}");
	/* U+017F LONG S folds with s and S; the Kelvin sign with k, K */
	ASSERT_DUP("{\"Sysctls\":{},\"\xc5\xbfysctls\":{}}");
	ASSERT_DUP("{\"\\u017fysctls\":{},\"sysctls\":{}}");
	ASSERT_DUP("{\"\xe2\x84\xaa" "ey\":1,\"key\":2}");
	ASSERT_DUP("{\"Key\":1,\"\\u212aey\":2}");
	/* Angstrom sign with a-ring; sigma's three forms; capital sharp s */
	ASSERT_DUP("{\"\xe2\x84\xab\":1,\"\xc3\xa5\":2}");
	ASSERT_DUP("{\"\xc3\x85\":1,\"\xe2\x84\xab\":2}");
	ASSERT_DUP("{\"\xcf\x83\":1,\"\xcf\x82\":2}");
	ASSERT_DUP("{\"\xce\xa3\":1,\"\xcf\x82\":2}");
	ASSERT_DUP("{\"\xe1\xba\x9e\":1,\"\xc3\x9f\":2}");
	/* nested objects, and objects in arrays */
	ASSERT_DUP("{\"HostConfig\":{\"Binds\":[],\"binds\":[\"/:/h\"]}}");
	ASSERT_DUP("{\"a\":[{\"x\":1},{\"y\":1,\"Y\":2}]}");
	ASSERT_DUP("[[[{\"a\":{\"b\":{\"c\":1,\"C\":1}}}]]]");
	ASSERT_DUP("{\"hostconfig\":{},\"HostConfig\":{\"Privileged\":1}}");
	/* the same name in different objects is fine */
	json_free(parse_ok("{\"a\":{\"a\":1},\"b\":{\"a\":1,\"b\":{\"a\":2}}}"));
	json_free(parse_ok("[{\"a\":1},{\"A\":1}]"));
	/* folding is simple only: no full (F) or Turkic (T) mappings */
	json_free(parse_ok("{\"\xc3\x9f\":1,\"ss\":2}"));
	json_free(parse_ok("{\"\xc4\xb0\":1,\"i\":2}"));
	json_free(parse_ok("{\"\xc4\xb1\":1,\"i\":2,\"\xc4\xb0\":3}"));
	json_free(parse_ok("{\"a\":1,\"a \":2,\" a\":3,\"\":4}"));
	json_free(parse_ok("{\"\xe2\x84\xaa\":1,\"\xe2\x84\xab\":2}"));
}
END_TEST

/* Objects of more than a few members: the sorted check. */
START_TEST(test_json_duplicates_many)
{
	char	 buf[4096];
	size_t	 n, i, len;
	int	 dup;

	for (n = 17; n <= 40; n++)
		for (dup = 0; dup < 4; dup++) {
			len = strlcpy(buf, "{", sizeof(buf));
			for (i = 0; i < n; i++) {
				len += (size_t)snprintf(buf + len,
				    sizeof(buf) - len, "%s\"k%zu\":%zu",
				    i > 0 ? "," : "", i, i);
			}
			/* a fold of an earlier name, first, middle or last */
			if (dup == 1)
				len += (size_t)snprintf(buf + len,
				    sizeof(buf) - len, ",\"K0\":0");
			if (dup == 2)
				len += (size_t)snprintf(buf + len,
				    sizeof(buf) - len, ",\"\xe2\x84\xaa%zu\":0",
				    n / 2);
			if (dup == 3)
				len += (size_t)snprintf(buf + len,
				    sizeof(buf) - len, ",\"k%zu\":0", n - 1);
			strlcat(buf, "}", sizeof(buf));
			if (dup == 0)
				json_free(parse_ok(buf));
			else
				ASSERT_DUP(buf);
		}
}
END_TEST

/*
 * Where a duplicate is reported among many members: the first name, in
 * the order written, that repeats an earlier one (here "K5" at member
 * 20, not "K3" after it, which repeats a name sorted earlier).
 */
START_TEST(test_json_duplicates_many_offset)
{
	char		 buf[1024];
	const char	*why, *at;
	size_t		 len, i, off;

	len = strlcpy(buf, "{", sizeof(buf));
	for (i = 0; i < 20; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len,
		    "\"k%zu\":%zu,", i, i);
	strlcat(buf, "\"K5\":0,\"K3\":0}", sizeof(buf));
	ck_assert_ptr_null(json_parse(buf, strlen(buf), NULL, &why, &off));
	ck_assert_str_eq(why, "duplicate key");
	at = strstr(buf, "\"K5\"");
	ck_assert_uint_eq(off, (size_t)(at - buf));
}
END_TEST

/* FNV-1a of a name folded (ASCII only here), as json.c hashes it. */
static uint64_t
fnv_folded(const char *s)
{
	uint64_t	 x = 0xcbf29ce484222325ULL;

	for (; *s != '\0'; s++)
		x = (x ^ (unsigned char)(*s >= 'A' && *s <= 'Z' ? *s + 32 :
		    *s)) * 0x100000001b3ULL;
	return x;
}

/*
 * Names made to collide in the duplicate check's hash table (40 members:
 * 128 slots; every name in slot 0): past its probe budget the check
 * sorts instead, with the same answers.
 */
START_TEST(test_json_duplicates_colliding)
{
	char		 names[40][16], buf[2048];
	const char	*why, *at;
	size_t		 n = 0, len, i, off;
	unsigned int	 c;

	for (c = 0; n < 40; c++) {
		snprintf(names[n], sizeof(names[n]), "c%u", c);
		if ((fnv_folded(names[n]) & 127) == 0)
			n++;
	}
	len = strlcpy(buf, "{", sizeof(buf));
	for (i = 0; i < 40; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len,
		    "%s\"%s\":%zu", i > 0 ? "," : "", names[i], i);
	strlcat(buf, "}", sizeof(buf));
	json_free(parse_ok(buf));
	/* the last name now repeats the first, folded: "C..." */
	at = strrchr(buf, ',') + 1;
	snprintf((char *)at, sizeof(buf) - (at - buf), "\"C%s\":0}",
	    names[0] + 1);
	ck_assert_ptr_null(json_parse(buf, strlen(buf), NULL, &why, &off));
	ck_assert_str_eq(why, "duplicate key");
	ck_assert_uint_eq(off, (size_t)(at - buf));
}
END_TEST

/* json_write_str: what a log line's strings become. */
START_TEST(test_json_write_str)
{
	static const struct {
		const char	*in;
		size_t		 max;
		const char	*want;
	} t[] = {
		{ "plain /path", 100, "\"plain /path\"" },
		{ "q\"b\\", 100, "\"q\\\"b\\\\\"" },
		{ "a\x01\n\x7f", 100, "\"a\\u0001\\u000a\\u007f\"" },
		{ "\xc3\xa9t\xc3\xa9", 100, "\"\xc3\xa9t\xc3\xa9\"" },
		{ "bad\xff\xc3", 100, "\"bad\\ufffd\\ufffd\"" },
		{ "abcdef", 3, "\"abc...\"" },
		/* cut at a character's start, never inside it */
		{ "\xc3\xa9\xc3\xa9", 3, "\"\xc3\xa9\xc3\xa9\"" },
		{ "\xc3\xa9\xc3\xa9x", 2, "\"\xc3\xa9...\"" },
		{ "", 10, "\"\"" },
	};
	char	 buf[64];
	size_t	 i, off;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		strlcpy(buf, "x", sizeof(buf));
		off = 1;
		ck_assert_int_eq(json_write_str(buf, sizeof(buf), &off,
		    t[i].in, t[i].max), 0);
		ck_assert_str_eq(buf + 1, t[i].want);
		ck_assert_uint_eq(off, strlen(buf));
	}
	/* what does not fit leaves the buffer as it was */
	strlcpy(buf, "keep", sizeof(buf));
	off = 4;
	ck_assert_int_eq(json_write_str(buf, 10, &off, "0123456789", 100), -1);
	ck_assert_str_eq(buf, "keep");
	ck_assert_uint_eq(off, 4);
}
END_TEST

/* n members; with dupprefix the last repeats the first's number. */
static char *
big_object(size_t n, const char *prefix, const char *dupprefix)
{
	char	*buf;
	size_t	 cap = n * (strlen(prefix) + 24) + 64, len = 0, i;

	ck_assert_ptr_nonnull(buf = malloc(cap));
	buf[len++] = '{';
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(buf + len, cap - len,
		    "%s\"%s%zu\":0", i > 0 ? "," : "",
		    dupprefix != NULL && i == n - 1 ? dupprefix : prefix,
		    (dupprefix != NULL && i == n - 1 ? n : n - i) * 7919 %
		    1000003);
	buf[len++] = '}';
	buf[len] = '\0';
	return buf;
}

/*
 * JSON_ITEMS_MAX members, names sharing a long prefix: a pairwise check
 * would compare two billion pairs; the sort takes a blink.
 */
START_TEST(test_json_duplicates_at_limit)
{
	const char	*prefix = "HostConfig.Something.Quite.Long.Indeed.";
	struct json_doc	*d;
	const char	*why;
	size_t		 off;
	char		*buf;

	buf = big_object(JSON_ITEMS_MAX, prefix, NULL);
	d = json_parse(buf, strlen(buf), NULL, &why, &off);
	ck_assert_msg(d != NULL, "%s at %zu", why, off);
	ck_assert_uint_eq(json_root(d)->n, JSON_ITEMS_MAX);
	ck_assert_ptr_nonnull(json_get(json_root(d),
	    "hostconfig.something.quite.long.indeed.7919"));
	json_free(d);
	free(buf);

	/* the last repeats the first, folded */
	buf = big_object(JSON_ITEMS_MAX, prefix,
	    "HOSTCONFIG.SOMETHING.QUITE.LONG.INDEED.");
	ck_assert_ptr_null(json_parse(buf, strlen(buf), NULL, &why, &off));
	ck_assert_str_eq(why, "duplicate key");
	ck_assert_ptr_eq(buf + off, strrchr(buf, ',') + 1);
	free(buf);
}
END_TEST

static const char *
limited(const char *in, size_t size, size_t depth, size_t items)
{
	struct json_limits	 lim = { size, depth, items, 0 };
	struct json_doc		*d;
	const char		*why;
	size_t			 off;

	if ((d = json_parse(in, strlen(in), &lim, &why, &off)) == NULL)
		return why;
	json_free(d);
	return "ok";
}

/*
 * exact_names: only byte-identical names are duplicates (the daemon's
 * maps); json_get() then prefers the exact name.  Both ways of finding
 * duplicates: pairwise (few members) and sorted (many).
 */
START_TEST(test_json_exact_names)
{
	struct json_limits	 lim = { JSON_SIZE_MAX, JSON_DEPTH_MAX,
				    JSON_ITEMS_MAX, 1 };
	struct json_doc		*d;
	const struct json_value	*v;
	const char		*why;
	char			 buf[4096];
	size_t			 off, len, i;
	int			 many;

	for (many = 0; many <= 1; many++) {
		len = (size_t)snprintf(buf, sizeof(buf), "{");
		for (i = 0; many && i < 40; i++)
			len += (size_t)snprintf(buf + len, sizeof(buf) - len,
			    "\"k%zu\":0,", i);
		len += (size_t)snprintf(buf + len, sizeof(buf) - len,
		    "\"a\":1,\"A\":2}");
		ck_assert_ptr_nonnull(d = json_parse(buf, len, &lim, &why,
		    &off));
		ck_assert_ptr_nonnull(v = json_get(json_root(d), "A"));
		ck_assert_str_eq(v->str, "2");
		ck_assert_ptr_nonnull(v = json_get(json_root(d), "a"));
		ck_assert_str_eq(v->str, "1");
		json_free(d);
		/* folded alike is one name to a client's body */
		ck_assert_ptr_null(json_parse(buf, len, NULL, &why, &off));
		ck_assert_str_eq(why, "duplicate key");
		/* the same bytes twice stay a duplicate */
		buf[len - 5] = 'a';
		ck_assert_ptr_null(json_parse(buf, len, &lim, &why, &off));
		ck_assert_str_eq(why, "duplicate key");
	}
}
END_TEST

START_TEST(test_json_limits)
{
	/* size: the whole input, whitespace too */
	ck_assert_str_eq(limited("[1, 2]", 6, 8, 8), "ok");
	ck_assert_str_eq(limited("[1, 2]", 5, 8, 8),
	    "input larger than the limit");
	ck_assert_str_eq(limited("[1,2] ", 5, 8, 8),
	    "input larger than the limit");
	ck_assert_str_eq(limited("1", 0, 8, 8), "input larger than the limit");
	/* depth: arrays and objects */
	ck_assert_str_eq(limited("[[[1]]]", 64, 3, 8), "ok");
	ck_assert_str_eq(limited("[[[[1]]]]", 64, 3, 8),
	    "nesting deeper than the limit");
	ck_assert_str_eq(limited("{\"a\":[{}]}", 64, 3, 8), "ok");
	ck_assert_str_eq(limited("{\"a\":[{\"b\":[]}]}", 64, 3, 8),
	    "nesting deeper than the limit");
	ck_assert_str_eq(limited("[[],[],[[]]]", 64, 3, 8), "ok");
	ck_assert_str_eq(limited("\"scalar\"", 64, 0, 8), "ok");
	ck_assert_str_eq(limited("[]", 64, 0, 8),
	    "nesting deeper than the limit");
	/* items: members and elements, all levels */
	ck_assert_str_eq(limited("[1,2,3]", 64, 8, 3), "ok");
	ck_assert_str_eq(limited("[1,2,3,4]", 64, 8, 3),
	    "more members and elements than the limit");
	ck_assert_str_eq(limited("{\"a\":[1,2]}", 64, 8, 3), "ok");
	ck_assert_str_eq(limited("{\"a\":[1,2],\"b\":0}", 64, 8, 3),
	    "more members and elements than the limit");
	ck_assert_str_eq(limited("[[[]]]", 64, 8, 2), "ok");
	ck_assert_str_eq(limited("[{},{}]", 64, 8, 2), "ok");
	ck_assert_str_eq(limited("[{},{\"a\":1}]", 64, 8, 2),
	    "more members and elements than the limit");
	ck_assert_str_eq(limited("{}", 64, 8, 0), "ok");
	ck_assert_str_eq(limited("[0]", 64, 8, 0),
	    "more members and elements than the limit");
	/* a limit is found before what follows is read */
	ck_assert_str_eq(limited("[[[[ garbage", 64, 3, 8),
	    "nesting deeper than the limit");
}
END_TEST

/* The defaults, at and over each limit. */
START_TEST(test_json_default_limits)
{
	const char	*why;
	size_t		 off, i, len;
	char		*buf;
	struct json_doc	*d;

	/* JSON_DEPTH_MAX nested arrays, then one more */
	buf = malloc(2 * (JSON_DEPTH_MAX + 1) + 1);
	ck_assert_ptr_nonnull(buf);
	for (i = 0; i < JSON_DEPTH_MAX; i++) {
		buf[i] = '[';
		buf[2 * JSON_DEPTH_MAX - 1 - i] = ']';
	}
	d = json_parse(buf, 2 * JSON_DEPTH_MAX, NULL, &why, &off);
	ck_assert_ptr_nonnull(d);
	json_free(d);
	for (i = 0; i <= JSON_DEPTH_MAX; i++) {
		buf[i] = '[';
		buf[2 * JSON_DEPTH_MAX + 1 - i] = ']';
	}
	ck_assert_ptr_null(json_parse(buf, 2 * JSON_DEPTH_MAX + 2, NULL,
	    &why, &off));
	ck_assert_str_eq(why, "nesting deeper than the limit");
	ck_assert_uint_eq(off, JSON_DEPTH_MAX);
	free(buf);

	/* JSON_ITEMS_MAX elements, then one more */
	len = 2 * (JSON_ITEMS_MAX + 1) + 1;
	ck_assert_ptr_nonnull(buf = malloc(len));
	buf[0] = '[';
	for (i = 0; i < JSON_ITEMS_MAX; i++) {
		buf[2 * i + 1] = '0';
		buf[2 * i + 2] = ',';
	}
	buf[2 * JSON_ITEMS_MAX] = ']';
	d = json_parse(buf, 2 * JSON_ITEMS_MAX + 1, NULL, &why, &off);
	ck_assert_ptr_nonnull(d);
	ck_assert_uint_eq(json_root(d)->n, JSON_ITEMS_MAX);
	json_free(d);
	buf[2 * JSON_ITEMS_MAX] = ',';
	buf[2 * JSON_ITEMS_MAX + 1] = '0';
	buf[2 * JSON_ITEMS_MAX + 2] = ']';
	ck_assert_ptr_null(json_parse(buf, 2 * JSON_ITEMS_MAX + 3, NULL,
	    &why, &off));
	ck_assert_str_eq(why, "more members and elements than the limit");
	ck_assert_uint_eq(off, 2 * JSON_ITEMS_MAX + 1);
	free(buf);

	/* JSON_SIZE_MAX bytes (a string and spaces), then one more */
	ck_assert_ptr_nonnull(buf = malloc(JSON_SIZE_MAX + 1));
	memset(buf, ' ', JSON_SIZE_MAX + 1);
	memset(buf + 1, 'x', JSON_SIZE_MAX / 2);
	buf[0] = '"';
	buf[JSON_SIZE_MAX / 2 + 1] = '"';
	d = json_parse(buf, JSON_SIZE_MAX, NULL, &why, &off);
	ck_assert_ptr_nonnull(d);
	ck_assert_uint_eq(json_root(d)->len, JSON_SIZE_MAX / 2);
	json_free(d);
	d = json_parse(buf, JSON_SIZE_MAX, &deflim, &why, &off);
	ck_assert_ptr_nonnull(d);
	json_free(d);
	ck_assert_ptr_null(json_parse(buf, JSON_SIZE_MAX + 1, NULL, &why,
	    &off));
	ck_assert_str_eq(why, "input larger than the limit");
	free(buf);
}
END_TEST

START_TEST(test_json_tree)
{
	struct json_doc			*d;
	const struct json_value		*r, *v, *hc;

	d = parse_ok("{\"Image\":\"alpine\",\"HostConfig\":{\"Privileged\":"
	    "true,\"Binds\":[\"/:/host\",\"a\\u0000b\"],\"Memory\":-0.50E+010,"
	    "\"N\":null,\"F\":false},\"Cmd\":[],\"e\":{}}");
	r = json_root(d);
	ck_assert_int_eq(r->type, JSON_OBJECT);
	ck_assert_uint_eq(r->n, 4);
	ck_assert_str_eq(r->keys[0], "Image");
	ck_assert_str_eq(r->keys[3], "e");
	ck_assert_uint_eq(r->keylens[1], 10);
	ck_assert_ptr_null(r->str);

	v = json_get(r, "Image");
	ck_assert_int_eq(v->type, JSON_STRING);
	ck_assert_str_eq(v->str, "alpine");
	ck_assert_uint_eq(v->len, 6);
	ck_assert_ptr_eq(json_get(r, "image"), v);
	ck_assert_ptr_eq(json_get(r, "IMAGE"), v);
	ck_assert_ptr_null(json_get(r, "Imag"));
	ck_assert_ptr_null(json_get(r, "Images"));
	ck_assert_ptr_null(json_get(r, ""));

	hc = json_get(r, "hostconfig");
	ck_assert_ptr_eq(hc, &r->items[1]);
	ck_assert_int_eq(json_get(hc, "privileged")->type, JSON_TRUE);
	ck_assert_int_eq(json_get(hc, "N")->type, JSON_NULL);
	ck_assert_int_eq(json_get(hc, "f")->type, JSON_FALSE);
	/* the number as written */
	v = json_get(hc, "Memory");
	ck_assert_int_eq(v->type, JSON_NUMBER);
	ck_assert_str_eq(v->str, "-0.50E+010");
	ck_assert_uint_eq(v->len, 10);
	/* a decoded \u0000 inside a value: use len */
	v = json_get(hc, "Binds");
	ck_assert_int_eq(v->type, JSON_ARRAY);
	ck_assert_uint_eq(v->n, 2);
	ck_assert_ptr_null(v->keys);
	ck_assert_str_eq(v->items[0].str, "/:/host");
	ck_assert_uint_eq(v->items[1].len, 3);
	ck_assert_int_eq(memcmp(v->items[1].str, "a\0b", 4), 0);
	/* json_get on what is not an object */
	ck_assert_ptr_null(json_get(v, "0"));
	ck_assert_ptr_null(json_get(&v->items[0], "x"));
	ck_assert_ptr_null(json_get(NULL, "x"));
	v = json_get(r, "Cmd");
	ck_assert_int_eq(v->type, JSON_ARRAY);
	ck_assert_uint_eq(v->n, 0);
	v = json_get(r, "E");
	ck_assert_int_eq(v->type, JSON_OBJECT);
	ck_assert_uint_eq(v->n, 0);
	ck_assert_ptr_null(json_get(v, "x"));
	json_free(d);

	/* names under folding as Go matches them */
	d = parse_ok("{\"\xc5\xbfysctls\":1,\"\xe2\x84\xaa" "ey\":2,"
	    "\"\\u0050rivileged\":3}");
	r = json_root(d);
	ck_assert_str_eq(r->keys[2], "Privileged");
	ck_assert_str_eq(json_get(r, "Sysctls")->str, "1");
	ck_assert_str_eq(json_get(r, "sysctls")->str, "1");
	ck_assert_str_eq(json_get(r, "KEY")->str, "2");
	ck_assert_str_eq(json_get(r, "privileged")->str, "3");
	ck_assert_ptr_null(json_get(r, "Sysctl"));
	json_free(d);

	/* escapes decoded */
	d = parse_ok("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\u20AC"
	    "\\ud83d\\ude00\xc3\xa9\"");
	r = json_root(d);
	ck_assert_str_eq(r->str, "\"\\/\b\f\n\r\t\xc3\xa9\xe2\x82\xac"
	    "\xf0\x9f\x98\x80\xc3\xa9");
	json_free(d);

	json_free(NULL);
}
END_TEST

struct foldcase {
	const char	*a, *b;
	int		 eq;
};

static const struct foldcase folds[] = {
	{ "s", "S", 1 },
	{ "s", "\xc5\xbf", 1 },			/* U+017F LONG S */
	{ "S", "\xc5\xbf", 1 },
	{ "k", "\xe2\x84\xaa", 1 },		/* U+212A KELVIN SIGN */
	{ "K", "\xe2\x84\xaa", 1 },
	{ "\xc3\xa5", "\xe2\x84\xab", 1 },	/* U+00E5, U+212B ANGSTROM */
	{ "\xc3\x85", "\xe2\x84\xab", 1 },	/* U+00C5 */
	{ "\xcf\x83", "\xcf\x82", 1 },		/* sigma, final sigma */
	{ "\xce\xa3", "\xcf\x82", 1 },		/* capital sigma */
	{ "\xce\xa3", "\xcf\x83", 1 },
	{ "\xe1\xba\x9e", "\xc3\x9f", 1 },	/* U+1E9E, U+00DF */
	{ "\xce\xb9", "\xcd\x85", 1 },		/* iota, U+0345 */
	{ "\xe1\xbe\xbe", "\xce\x99", 1 },	/* U+1FBE, capital iota */
	{ "\xcf\x81", "\xcf\xb1", 1 },		/* rho, U+03F1 */
	{ "\xc8\xba", "\xe2\xb1\xa5", 1 },	/* U+023A, U+2C65: 2, 3 */
	{ "\xf0\x90\x90\x80", "\xf0\x90\x90\xa8", 1 },	/* Deseret */
	{ "\xe1\x8e\xa0", "\xea\xad\xb0", 1 },	/* Cherokee U+13A0, U+AB70 */
	{ "Privileged", "PRIVILEGED", 1 },
	{ "", "", 1 },
	{ "\xc3\x9f", "ss", 0 },		/* full folding: no */
	{ "\xc4\xb0", "i", 0 },			/* U+0130: T/F only */
	{ "\xc4\xb1", "I", 0 },			/* U+0131 */
	{ "\xe2\x84\xaa", "\xe2\x84\xab", 0 },
	{ "a", "", 0 },
	{ "ab", "a", 0 },
	{ "@", "`", 0 },			/* around A-Z */
	{ "[", "{", 0 },
	{ "Z", "z", 1 },
	{ "\xc3\x80", "\xc3\xa0", 1 },		/* U+00C0 */
	{ "\xc3\x97", "\xc3\xb7", 0 },		/* U+00D7, U+00F7 */
	{ "\xe2\x84\xaa\xc5\xbf", "ks", 1 },
};

START_TEST(test_json_fold_eq)
{
	const struct foldcase	*f = &folds[_i];
	size_t			 al = strlen(f->a), bl = strlen(f->b);

	ck_assert_msg(json_fold_eq(f->a, al, f->b, bl) == f->eq,
	    "case %d", _i);
	ck_assert_msg(json_fold_eq(f->b, bl, f->a, al) == f->eq,
	    "case %d reversed", _i);
	ck_assert_int_eq(json_fold_eq(f->a, al, f->a, al), 1);
}
END_TEST

/* The generated table: sorted, above ASCII, every target a fixed point. */
START_TEST(test_json_casefold_table)
{
	size_t	 n = sizeof(casefold_table) / sizeof(casefold_table[0]), i, j;
	char	 a[4], b[4];

	ck_assert_uint_gt(n, 1000);
	for (i = 0; i < n; i++) {
		ck_assert_msg(casefold_table[i].from >= 0x80 &&
		    casefold_table[i].to <= 0x10ffff &&
		    casefold_table[i].from != casefold_table[i].to &&
		    (i == 0 || casefold_table[i - 1].from <
		    casefold_table[i].from), "entry %zu", i);
		for (j = 0; j < n; j++)
			if (casefold_table[j].from == casefold_table[i].to)
				ck_abort_msg("U+%04X folds again",
				    (unsigned)casefold_table[i].to);
	}
	/* and json_fold_eq() uses it: each from equals its to */
	for (i = 0; i < n; i++) {
		uint32_t	 c = casefold_table[i].from, t;
		size_t		 al, bl;

		al = c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
		if (al == 2) {
			a[0] = (char)(0xc0 | c >> 6);
			a[1] = (char)(0x80 | (c & 0x3f));
		} else if (al == 3) {
			a[0] = (char)(0xe0 | c >> 12);
			a[1] = (char)(0x80 | (c >> 6 & 0x3f));
			a[2] = (char)(0x80 | (c & 0x3f));
		} else {
			a[0] = (char)(0xf0 | c >> 18);
			a[1] = (char)(0x80 | (c >> 12 & 0x3f));
			a[2] = (char)(0x80 | (c >> 6 & 0x3f));
			a[3] = (char)(0x80 | (c & 0x3f));
		}
		t = casefold_table[i].to;
		bl = t < 0x80 ? 1 : t < 0x800 ? 2 : t < 0x10000 ? 3 : 4;
		if (bl == 1)
			b[0] = (char)t;
		else if (bl == 2) {
			b[0] = (char)(0xc0 | t >> 6);
			b[1] = (char)(0x80 | (t & 0x3f));
		} else if (bl == 3) {
			b[0] = (char)(0xe0 | t >> 12);
			b[1] = (char)(0x80 | (t >> 6 & 0x3f));
			b[2] = (char)(0x80 | (t & 0x3f));
		} else {
			b[0] = (char)(0xf0 | t >> 18);
			b[1] = (char)(0x80 | (t >> 12 & 0x3f));
			b[2] = (char)(0x80 | (t >> 6 & 0x3f));
			b[3] = (char)(0x80 | (t & 0x3f));
		}
		ck_assert_msg(json_fold_eq(a, al, b, bl), "U+%04X",
		    (unsigned)c);
	}
}
END_TEST

Suite *
json_suite(void)
{
	Suite	*s = suite_create("json");
	TCase	*tc = tcase_create("core");

	tcase_add_loop_test(tc, test_json_vectors, 0,
	    (int)(sizeof(vecs) / sizeof(vecs[0])));
	tcase_add_test(tc, test_json_offsets);
	tcase_add_test(tc, test_json_duplicates);
	tcase_add_test(tc, test_json_duplicates_many);
	tcase_add_test(tc, test_json_duplicates_many_offset);
	tcase_add_test(tc, test_json_duplicates_colliding);
	tcase_add_test(tc, test_json_write_str);
	tcase_add_test(tc, test_json_limits);
	tcase_add_test(tc, test_json_exact_names);
	tcase_add_test(tc, test_json_tree);
	tcase_add_loop_test(tc, test_json_fold_eq, 0,
	    (int)(sizeof(folds) / sizeof(folds[0])));
	tcase_add_test(tc, test_json_casefold_table);
	suite_add_tcase(s, tc);
	/* big inputs: a pairwise duplicate check would not finish in time */
	tc = tcase_create("limits");
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_json_duplicates_at_limit);
	tcase_add_test(tc, test_json_default_limits);
	suite_add_tcase(s, tc);
	return s;
}
