//! Links: extraction table, the official PSL test vectors, reputation (lookalikes, brands,
//! trusted domains), list loading from a rules directory, and span invariants.

use std::sync::OnceLock;

use smishd::links::{LinkAnalyzer, Reputation, SuffixList, UrlFinding};
use smishd::{Action, Engine, Message};

fn analyzer() -> &'static LinkAnalyzer {
    static A: OnceLock<LinkAnalyzer> = OnceLock::new();
    A.get_or_init(|| LinkAnalyzer::new().expect("compiled-in link lists load"))
}

fn find(text: &str) -> Vec<UrlFinding> {
    let found = analyzer().find(text);
    for u in &found {
        assert!(
            text.is_char_boundary(u.span.start)
                && text.is_char_boundary(u.span.end)
                && u.span.start < u.span.end,
            "span {}..{} of {text:?} is not on char boundaries",
            u.span.start,
            u.span.end
        );
        assert_eq!(
            &text[u.span.start..u.span.end],
            u.raw,
            "raw is the span of {text:?}"
        );
    }
    found
}

/// `x!(name, "text", &[("raw as written", "canonical host"), ...])`: exactly these links, in
/// order. An empty list means the text holds no link.
macro_rules! x {
    ($name:ident, $text:expr, $expected:expr) => {
        #[test]
        fn $name() {
            let found = find($text);
            let got: Vec<(&str, &str)> = found
                .iter()
                .map(|u| (u.raw.as_str(), u.host.as_str()))
                .collect();
            let want: &[(&str, &str)] = $expected;
            assert_eq!(got, want, "links in {:?}: {found:#?}", $text);
        }
    };
}

mod extraction {
    use super::*;

    // With a scheme.
    x!(
        http_plain,
        "see http://example.com/a",
        &[("http://example.com/a", "example.com")]
    );
    x!(
        https_path_query,
        "点击 https://abc.cn/p?q=1&r=2#f 查看",
        &[("https://abc.cn/p?q=1&r=2#f", "abc.cn")]
    );
    x!(
        scheme_uppercase,
        "HTTP://EXAMPLE.COM/X",
        &[("HTTP://EXAMPLE.COM/X", "example.com")]
    );
    x!(
        scheme_glued_cjk_before,
        "请点击http://abc.cn/x核验",
        &[("http://abc.cn/x", "abc.cn")]
    );
    x!(
        scheme_glued_cjk_after_host,
        "登录https://abc-health.cn核验",
        &[("https://abc-health.cn", "abc-health.cn")]
    );
    x!(
        scheme_trailing_period,
        "Visit http://abc.com/x.",
        &[("http://abc.com/x", "abc.com")]
    );
    x!(
        scheme_in_parens,
        "(see http://abc.com/x)",
        &[("http://abc.com/x", "abc.com")]
    );
    x!(
        scheme_balanced_parens_in_path,
        "http://abc.com/wiki/A_(b) ok",
        &[("http://abc.com/wiki/A_(b)", "abc.com")]
    );
    x!(
        scheme_fullwidth_comma_after,
        "http://abc.com/x，谢谢",
        &[("http://abc.com/x", "abc.com")]
    );
    x!(
        scheme_unknown_suffix_kept,
        "http://intranet.corp-internal/x",
        &[("http://intranet.corp-internal/x", "intranet.corp-internal")]
    );
    x!(
        scheme_single_label_host,
        "http://localhost:8080/",
        &[("http://localhost:8080/", "localhost")]
    );
    x!(
        ftp_scheme,
        "ftp://files.example.org/a.zip",
        &[("ftp://files.example.org/a.zip", "files.example.org")]
    );
    x!(unknown_scheme_not_a_link, "abc://example.com", &[]);
    x!(scheme_glued_to_ascii_word, "xhttp://example.com", &[]);
    x!(
        two_links,
        "a.com 和 b.cn",
        &[("a.com", "a.com"), ("b.cn", "b.cn")]
    );
    // Without a scheme.
    x!(
        schemeless_plain,
        "go to example.com now",
        &[("example.com", "example.com")]
    );
    x!(
        schemeless_www,
        "www.example.com",
        &[("www.example.com", "www.example.com")]
    );
    x!(
        schemeless_glued_both_sides,
        "请点击abc-health.cn核验",
        &[("abc-health.cn", "abc-health.cn")]
    );
    x!(
        schemeless_glued_path,
        "详见t.cn/A6xJkM9领取",
        &[("t.cn/A6xJkM9", "t.cn")]
    );
    x!(
        schemeless_path_case_kept,
        "t.cn/A6xJkM9",
        &[("t.cn/A6xJkM9", "t.cn")]
    );
    x!(
        schemeless_com_cn,
        "登录icbc-vip.com.cn",
        &[("icbc-vip.com.cn", "icbc-vip.com.cn")]
    );
    x!(
        schemeless_uppercase_host,
        "WWW.EXAMPLE.COM",
        &[("WWW.EXAMPLE.COM", "www.example.com")]
    );
    x!(
        schemeless_sentence_end_ascii,
        "Visit abc.com.",
        &[("abc.com", "abc.com")]
    );
    x!(
        schemeless_sentence_end_ideographic,
        "请访问abc.com。谢谢",
        &[("abc.com", "abc.com")]
    );
    x!(
        schemeless_port_and_path,
        "abc.top:8443/login",
        &[("abc.top:8443/login", "abc.top")]
    );
    x!(
        schemeless_query,
        "abc.cn?id=12",
        &[("abc.cn?id=12", "abc.cn")]
    );
    x!(
        schemeless_private_suffix,
        "evil.github.io/login",
        &[("evil.github.io/login", "evil.github.io")]
    );
    x!(
        schemeless_in_brackets,
        "【abc.cn】",
        &[("abc.cn", "abc.cn")]
    );
    x!(
        schemeless_after_colon,
        "网址:abc.cn",
        &[("abc.cn", "abc.cn")]
    );
    x!(
        schemeless_after_fullwidth_colon,
        "网址：abc.cn",
        &[("abc.cn", "abc.cn")]
    );
    x!(
        schemeless_digits_label,
        "10086.cn",
        &[("10086.cn", "10086.cn")]
    );
    x!(
        schemeless_hyphenated_digits,
        "10086-jf.vip",
        &[("10086-jf.vip", "10086-jf.vip")]
    );
    x!(
        schemeless_deep,
        "a.b.c.d.example.com",
        &[("a.b.c.d.example.com", "a.b.c.d.example.com")]
    );
    x!(
        schemeless_zip_with_www,
        "www.setup.zip",
        &[("www.setup.zip", "www.setup.zip")]
    );
    x!(
        scheme_zip_tld,
        "http://files.zip/x",
        &[("http://files.zip/x", "files.zip")]
    );
    // Full width and lookalike dots.
    x!(
        fullwidth_all,
        "ｊｋｍ－ｈｅｌｐ．ｔｏｐ",
        &[("ｊｋｍ－ｈｅｌｐ．ｔｏｐ", "jkm-help.top")]
    );
    x!(fullwidth_dot_only, "abc．cn", &[("abc．cn", "abc.cn")]);
    x!(
        fullwidth_letters_ascii_dot,
        "ａｂｃ.ｃｎ",
        &[("ａｂｃ.ｃｎ", "abc.cn")]
    );
    x!(
        fullwidth_slash_path,
        "t．cn／Abc",
        &[("t．cn／Abc", "t.cn")]
    );
    x!(
        ideographic_dot,
        "jkm-help。top",
        &[("jkm-help。top", "jkm-help.top")]
    );
    x!(
        ideographic_dot_glued,
        "请登录jkm-help。top申诉",
        &[("jkm-help。top", "jkm-help.top")]
    );
    x!(halfwidth_ideographic_dot, "abc｡cn", &[("abc｡cn", "abc.cn")]);
    x!(
        ideographic_dots_www,
        "www。abc。com",
        &[("www。abc。com", "www.abc.com")]
    );
    x!(
        zero_width_inside,
        "ab\u{200B}c.cn",
        &[("ab\u{200B}c.cn", "abc.cn")]
    );
    // Invisible characters anywhere: the link is read as the phone shows it, the span keeps
    // what was written.
    x!(
        left_to_right_mark_inside,
        "请登录jkm-he\u{200E}lp.top申诉",
        &[("jkm-he\u{200E}lp.top", "jkm-help.top")]
    );
    x!(
        bidi_override_inside,
        "jkm-he\u{202E}lp.top",
        &[("jkm-he\u{202E}lp.top", "jkm-help.top")]
    );
    x!(
        bidi_isolate_before_dot,
        "jkm-help\u{2066}.top",
        &[("jkm-help\u{2066}.top", "jkm-help.top")]
    );
    x!(
        invisible_outside_the_link_stays_outside,
        "\u{200B}jkm-help.top\u{FEFF}",
        &[("jkm-help.top", "jkm-help.top")]
    );
    x!(
        tag_character_before_dot,
        "evil\u{E0020}.top/a",
        &[("evil\u{E0020}.top/a", "evil.top")]
    );
    x!(
        soft_hyphen_before_ideographic_dot,
        "evil\u{00AD}。top",
        &[("evil\u{00AD}。top", "evil.top")]
    );
    x!(
        invisible_inside_defanged_scheme,
        "h\u{200B}xxp://evil.top",
        &[("h\u{200B}xxp://evil.top", "evil.top")]
    );
    x!(
        invisible_inside_bracket_dot,
        "evil[\u{200D}.]top",
        &[("evil[\u{200D}.]top", "evil.top")]
    );
    x!(
        invisible_inside_path,
        "t.cn/A6x\u{200C}JkM9",
        &[("t.cn/A6x\u{200C}JkM9", "t.cn")]
    );
    // Defanged.
    x!(
        hxxp,
        "hxxp://evil.top/a",
        &[("hxxp://evil.top/a", "evil.top")]
    );
    x!(
        hxxps_upper,
        "HXXPS://evil.top",
        &[("HXXPS://evil.top", "evil.top")]
    );
    x!(bracket_dot, "evil[.]top", &[("evil[.]top", "evil.top")]);
    x!(paren_dot, "evil(.)top", &[("evil(.)top", "evil.top")]);
    x!(brace_dot, "evil{.}top", &[("evil{.}top", "evil.top")]);
    x!(
        bracket_word_dot,
        "evil[dot]top",
        &[("evil[dot]top", "evil.top")]
    );
    x!(
        paren_word_dot_upper,
        "evil(DOT)top",
        &[("evil(DOT)top", "evil.top")]
    );
    x!(
        spelled_dot,
        "go to evil dot top now",
        &[("evil dot top", "evil.top")]
    );
    x!(
        chinese_dot,
        "登录evil点top领取",
        &[("evil点top", "evil.top")]
    );
    x!(
        bracket_colon,
        "hxxp[:]//evil[.]top/x",
        &[("hxxp[:]//evil[.]top/x", "evil.top")]
    );
    x!(
        defanged_multi,
        "www[.]evil[.]com[.]cn",
        &[("www[.]evil[.]com[.]cn", "www.evil.com.cn")]
    );
    // Spaces around dots.
    x!(spaces_both_sides, "abc . com", &[("abc . com", "abc.com")]);
    x!(space_before_dot, "abc .com", &[("abc .com", "abc.com")]);
    x!(
        space_before_ideographic_dot,
        "jkm-help 。top",
        &[("jkm-help 。top", "jkm-help.top")]
    );
    x!(
        space_after_dot_only_is_a_sentence,
        "I went home. Today is fine",
        &[]
    );
    // IDN and punycode.
    x!(
        idn_cjk,
        "访问 例子.中国 了解",
        &[("例子.中国", "xn--fsqu00a.xn--fiqs8s")]
    );
    x!(
        idn_tld_glued_after,
        "访问 例子.中国了解",
        &[("例子.中国", "xn--fsqu00a.xn--fiqs8s")]
    );
    x!(
        idn_ascii_label_cjk_tld,
        "abc.中国",
        &[("abc.中国", "abc.xn--fiqs8s")]
    );
    x!(
        idn_with_scheme,
        "http://例子.中国/路径",
        &[("http://例子.中国/", "xn--fsqu00a.xn--fiqs8s")]
    );
    x!(
        punycode_written,
        "xn--fsqu00a.xn--fiqs8s",
        &[("xn--fsqu00a.xn--fiqs8s", "xn--fsqu00a.xn--fiqs8s")]
    );
    x!(
        cyrillic_homograph,
        "аpple.com",
        &[("аpple.com", "xn--pple-43d.com")]
    );
    x!(
        cjk_sentence_before_dot,
        "本公司主营银行抵押贷款.信用贷款.公司",
        &[]
    );
    x!(cjk_word_ascii_tld, "研究生.MBA", &[]);
    x!(
        cjk_sentence_then_host,
        "小吃.烧烤瓶宜到狗虾yepu.example.cc",
        &[("yepu.example.cc", "yepu.example.cc")]
    );
    x!(
        cjk_then_full_stop_then_host,
        "质量有保障。www.example.cn",
        &[("www.example.cn", "www.example.cn")]
    );
    x!(
        cjk_full_stop_glued_host,
        "黄冠。abcdef.cc",
        &[("abcdef.cc", "abcdef.cc")]
    );
    x!(
        idn_sentence_stop_not_label,
        "登录abc.cn。中国移动提醒您",
        &[("abc.cn", "abc.cn")]
    );
    // IP hosts.
    x!(
        ipv4_plain,
        "http://192.168.1.1/login",
        &[("http://192.168.1.1/login", "192.168.1.1")]
    );
    x!(
        ipv4_schemeless,
        "登录 192.168.1.1/login",
        &[("192.168.1.1/login", "192.168.1.1")]
    );
    x!(
        ipv4_decimal,
        "http://3232235777/",
        &[("http://3232235777/", "192.168.1.1")]
    );
    x!(
        ipv4_hex,
        "http://0xC0A80101/a",
        &[("http://0xC0A80101/a", "192.168.1.1")]
    );
    x!(
        ipv4_dotted_hex,
        "http://0xC0.0xA8.1.1/",
        &[("http://0xC0.0xA8.1.1/", "192.168.1.1")]
    );
    x!(
        ipv6,
        "http://[2001:db8::1]/x",
        &[("http://[2001:db8::1]/x", "[2001:db8::1]")]
    );
    x!(
        ipv6_port,
        "http://[::1]:8080/",
        &[("http://[::1]:8080/", "[::1]")]
    );
    x!(
        ipv4_port,
        "http://1.2.3.4:81/",
        &[("http://1.2.3.4:81/", "1.2.3.4")]
    );
    // Userinfo.
    x!(
        userinfo_trick,
        "http://www.gov.cn@evil.top/x",
        &[("http://www.gov.cn@evil.top/x", "evil.top")]
    );
    x!(
        userinfo_password,
        "https://user:pw@evil.top",
        &[("https://user:pw@evil.top", "evil.top")]
    );
    x!(
        userinfo_schemeless_www,
        "www.icbc.com.cn@evil.top/x",
        &[("www.icbc.com.cn@evil.top/x", "evil.top")]
    );
    x!(email_is_not_a_link, "请发邮件到 abc@qq.com", &[]);
    // Shorteners.
    x!(shortener_t_cn, "t.cn/A6xJkM9", &[("t.cn/A6xJkM9", "t.cn")]);
    x!(
        shortener_url_cn,
        "url.cn/5ZbTQ2",
        &[("url.cn/5ZbTQ2", "url.cn")]
    );
    x!(shortener_dwz, "dwz.cn/abc", &[("dwz.cn/abc", "dwz.cn")]);
    x!(
        shortener_suo_im,
        "suo.im/5xYz",
        &[("suo.im/5xYz", "suo.im")]
    );
    // No false links.
    x!(file_pdf, "见附件report.pdf", &[]);
    x!(file_exe, "下载setup.exe安装", &[]);
    x!(file_jpg, "photo.jpg", &[]);
    x!(file_docx_png_txt, "a.docx b.png c.txt", &[]);
    x!(file_zip_schemeless, "setup.zip", &[]);
    x!(file_mov_schemeless, "clip.mov", &[]);
    x!(file_py, "main.py", &[]);
    x!(file_md, "README.md", &[]);
    x!(version_number, "升级到v1.2.3版本", &[]);
    x!(version_plain, "version 2.0.1", &[]);
    x!(decimal, "利率3.85%", &[]);
    x!(price, "仅需198.00元", &[]);
    x!(price_yen, "¥19.9", &[]);
    x!(time, "12.30开始", &[]);
    x!(time_colon, "12:30开始", &[]);
    x!(date_dotted, "2024.05.01到期", &[]);
    x!(three_octets, "1.2.3", &[]);
    x!(octet_too_big, "300.1.1.1", &[]);
    x!(abbreviation, "e.g. i.e. etc.", &[]);
    x!(chinese_only, "您好。今天天气不错，请注意安全。", &[]);
    x!(ideographic_full_stop_between_words, "ok。好的", &[]);
    x!(dot_without_label, "...", &[]);
    x!(trailing_dot_word, "hello.", &[]);
    x!(unknown_tld_schemeless, "abc.notatld", &[]);
    x!(path_like, "C:/data/file.com", &[]);
    x!(chinese_dot_time, "下午3点30分", &[]);
    x!(dot_word_in_sentence, "a dot on the map", &[]);
    x!(empty_text, "", &[]);
    x!(title_case_tld_is_prose, "Mr.Li 您好", &[]);
    x!(product_name_is_prose, "iPhone14.Pro 到货", &[]);
    x!(
        title_case_tld_with_www,
        "www.Example.Com",
        &[("www.Example.Com", "www.example.com")]
    );
    x!(
        numbers_and_files_mixed,
        "订单号12345.6789 金额1,234.56元 版本号V2.3.1 合同.docx",
        &[]
    );
}

mod psl_vectors {
    use super::*;

    /// The official PSL test vectors (tests/fixtures/test_psl.txt, from the PSL project):
    /// `checkPublicSuffix(input, expected_registrable_domain);`, `null` for none.
    #[test]
    fn official_test_vectors_pass() {
        let text = include_str!("fixtures/test_psl.txt");
        let psl = SuffixList::parse(
            include_str!("../rules/public_suffix_list.dat"),
            "rules/public_suffix_list.dat",
        )
        .unwrap();
        let mut failures = Vec::new();
        let mut checked = 0;
        for line in text.lines() {
            let line = line.trim();
            let Some(args) = line
                .strip_prefix("checkPublicSuffix(")
                .and_then(|l| l.strip_suffix(");"))
            else {
                continue;
            };
            let (input, expected) = args.split_once(", ").expect("two arguments");
            let arg = |s: &str| -> Option<String> {
                (s != "null").then(|| s.trim_matches('\'').to_string())
            };
            let (input, expected) = (arg(input), arg(expected));
            let got = input.as_deref().and_then(|i| psl.registrable_psl(i));
            if got != expected {
                failures.push(format!("{input:?}: expected {expected:?}, got {got:?}"));
            }
            checked += 1;
        }
        assert!(checked >= 70, "only {checked} vectors found");
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn registrable_domains_of_links() {
        for (text, reg) in [
            ("www.nhc.gov.cn", "nhc.gov.cn"),
            ("a.b.icbc.com.cn", "icbc.com.cn"),
            ("x.evil.workers.dev", "evil.workers.dev"),
            ("my-app.vercel.app", "my-app.vercel.app"),
            ("evil.github.io", "evil.github.io"),
            ("http://192.168.1.1/", ""),
            ("http://intranet.corp-internal/", ""),
        ] {
            let f = find(text);
            assert_eq!(f.len(), 1, "{text}");
            assert_eq!(f[0].registrable_domain, reg, "{text}");
        }
    }
}

/// `r!(name, "text", Reputation, &[reasons that must be there], &[reasons that must not])`
/// for the single link in the text.
macro_rules! r {
    ($name:ident, $text:expr, $rep:expr, $must:expr, $mustnt:expr) => {
        #[test]
        fn $name() {
            let found = find($text);
            assert_eq!(found.len(), 1, "one link in {:?}: {found:#?}", $text);
            let u = &found[0];
            assert_eq!(u.reputation, $rep, "{:?}: {u:#?}", $text);
            for r in $must as &[&str] {
                assert!(u.reasons.contains(r), "{:?} lacks {r}: {u:#?}", $text);
            }
            for r in $mustnt as &[&str] {
                assert!(!u.reasons.contains(r), "{:?} has {r}: {u:#?}", $text);
            }
        }
    };
}

mod reputation {
    use super::*;
    use Reputation::*;

    // Trusted stays trusted.
    r!(
        sf_express_www,
        "www.sf-express.com",
        Trusted,
        &["OFFICIAL_BRAND"],
        &["LOOKALIKE_BRAND"]
    );
    r!(
        sf_express_https_path,
        "https://www.sf-express.com/cn/sc/",
        Trusted,
        &[],
        &["LOOKALIKE_BRAND"]
    );
    r!(
        ems,
        "ems.com.cn",
        Trusted,
        &["OFFICIAL_BRAND"],
        &["LOOKALIKE_BRAND"]
    );
    r!(
        gov_cn_subdomain,
        "http://www.nhc.gov.cn/xcs/",
        Trusted,
        &[],
        &["LOOKALIKE_BRAND"]
    );
    r!(
        gov_cn_any_registrant,
        "https://www.hubei.gov.cn",
        Trusted,
        &["OFFICIAL_BRAND"],
        &[]
    );
    r!(carrier_10086, "10086.cn", Trusted, &[], &[]);
    r!(carrier_10010, "www.10010.com", Trusted, &[], &[]);
    r!(carrier_189, "189.cn", Trusted, &[], &[]);
    r!(
        railway_12306,
        "https://kyfw.12306.cn/otn/",
        Trusted,
        &[],
        &[]
    );
    r!(bank_icbc, "www.icbc.com.cn", Trusted, &[], &[]);
    r!(bank_boc, "boc.cn", Trusted, &[], &[]);
    r!(wechat, "weixin.qq.com", Trusted, &[], &[]);
    r!(
        trusted_list_entry,
        "www.baidu.com",
        Trusted,
        &["TRUSTED_LIST"],
        &[]
    );
    r!(
        trusted_but_port,
        "http://www.icbc.com.cn:8443/",
        Suspicious,
        &["UNUSUAL_PORT"],
        &[]
    );
    // Lookalikes.
    r!(
        gov_cn_top,
        "gov-cn.top",
        Malicious,
        &["LOOKALIKE_BRAND", "SUSPICIOUS_TLD"],
        &[]
    );
    r!(
        sf_expresss,
        "sf-expresss.com",
        Suspicious,
        &["LOOKALIKE_BRAND"],
        &[]
    );
    r!(
        jf_10086_vip,
        "10086-jf.vip",
        Malicious,
        &["LOOKALIKE_BRAND", "SUSPICIOUS_TLD"],
        &[]
    );
    r!(
        tax_gov_nested,
        "tax-gov.cn.refund-check.xyz",
        Malicious,
        &["LOOKALIKE_BRAND"],
        &[]
    );
    r!(
        brand_on_other_suffix,
        "alipay.top",
        Malicious,
        &["LOOKALIKE_BRAND"],
        &[]
    );
    r!(
        skeleton_digit,
        "a1ipay.com",
        Suspicious,
        &["LOOKALIKE_BRAND"],
        &[]
    );
    r!(
        skeleton_cyrillic,
        "аlipay.com",
        Malicious,
        &["LOOKALIKE_BRAND", "MIXED_SCRIPT"],
        &[]
    );
    r!(
        icbc_keyword,
        "icbc-vip.com",
        Suspicious,
        &["LOOKALIKE_BRAND"],
        &[]
    );
    r!(
        carrier_typo,
        "l0086.cn",
        Suspicious,
        &["LOOKALIKE_BRAND"],
        &[]
    );
    r!(
        railway_keyword,
        "12306-refund.cc",
        Malicious,
        &["LOOKALIKE_BRAND"],
        &[]
    );
    r!(
        courier_keyword_path,
        "https://ems-delivery.xyz/track",
        Malicious,
        &["LOOKALIKE_BRAND"],
        &[]
    );
    r!(
        unrelated_domain,
        "example.com",
        Unknown,
        &[],
        &["LOOKALIKE_BRAND"]
    );
    r!(
        unrelated_chinese_domain,
        "abc-health.cn",
        Unknown,
        &[],
        &["LOOKALIKE_BRAND"]
    );
    // Lists and heuristics.
    r!(
        malicious_list,
        "jkm-help.top",
        Malicious,
        &["MALICIOUS_LIST"],
        &[]
    );
    r!(
        malicious_list_subdomain,
        "http://a.b.jkm-help.top/x",
        Malicious,
        &["MALICIOUS_LIST"],
        &[]
    );
    r!(
        shortener,
        "t.cn/A6xJkM9",
        Suspicious,
        &["SHORTENER", "SCHEMELESS"],
        &[]
    );
    r!(
        suspicious_tld,
        "abc.xyz",
        Suspicious,
        &["SUSPICIOUS_TLD"],
        &[]
    );
    r!(ip_host, "http://1.2.3.4/", Suspicious, &["IP_HOST"], &[]);
    r!(
        unusual_port,
        "http://example.com:8443/",
        Suspicious,
        &["UNUSUAL_PORT"],
        &[]
    );
    r!(
        userinfo_domain,
        "http://www.gov.cn@evil.top/x",
        Malicious,
        &["USERINFO_TRICK"],
        &[]
    );
    r!(
        punycode,
        "xn--fsqu00a.xn--fiqs8s",
        Suspicious,
        &["PUNYCODE"],
        &[]
    );
    r!(
        mixed_script,
        "shоpnow.com",
        Suspicious,
        &["MIXED_SCRIPT"],
        &["LOOKALIKE_BRAND"]
    );
    // A brand spelt with a lookalike letter is two risk reasons.
    r!(
        mixed_script_brand,
        "pаypal.com",
        Malicious,
        &["MIXED_SCRIPT", "LOOKALIKE_BRAND"],
        &[]
    );
    r!(
        deep_subdomain,
        "a.b.c.example.com",
        Suspicious,
        &["DEEP_SUBDOMAIN"],
        &[]
    );
    r!(
        random_label,
        "x7k2q9mz3w.com",
        Suspicious,
        &["RANDOM_LABEL"],
        &[]
    );
    r!(
        defanged_counts,
        "example[.]com",
        Suspicious,
        &["DEFANGED"],
        &[]
    );
    r!(
        ideographic_counts,
        "example。com",
        Suspicious,
        &["IDEOGRAPHIC_DOT"],
        &[]
    );
    r!(
        fullwidth_counts,
        "ｅｘａｍｐｌｅ．ｃｏｍ",
        Suspicious,
        &["FULLWIDTH"],
        &[]
    );
    r!(
        spaced_counts,
        "example . com",
        Suspicious,
        &["SPACED_DOT"],
        &[]
    );
    r!(
        unknown_suffix,
        "http://intranet.corp-internal/",
        Suspicious,
        &["UNKNOWN_SUFFIX"],
        &[]
    );
    r!(
        plain_scheme_has_no_schemeless,
        "https://example.com",
        Unknown,
        &[],
        &["SCHEMELESS"]
    );
}

mod loading {
    use super::*;

    fn rules_dir_with(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
        for entry in std::fs::read_dir(&repo).unwrap() {
            let p = entry.unwrap().path();
            if p.is_file() && p.extension().is_some_and(|e| e == "toml") || p.ends_with("VERSION") {
                std::fs::copy(&p, dir.path().join(p.file_name().unwrap())).unwrap();
            }
        }
        std::fs::create_dir(dir.path().join("domains")).unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        dir
    }

    #[test]
    fn operator_lists_replace_compiled_in_ones() {
        let dir = rules_dir_with(&[
            ("domains/malicious.txt", "# ours\nour-bad-site.com\n"),
            ("domains/trusted.txt", "our-partner.xyz\n"),
        ]);
        let a = LinkAnalyzer::from_dir(dir.path()).unwrap();
        let f = a.find("our-bad-site.com our-partner.xyz jkm-help.top");
        assert_eq!(f[0].reputation, Reputation::Malicious);
        assert_eq!(f[1].reputation, Reputation::Trusted);
        // The compiled-in malicious list was replaced: its entry is no longer listed.
        assert!(!f[2].reasons.contains(&"MALICIOUS_LIST"), "{f:#?}");
        // Absent lists fall back to the compiled-in ones.
        assert!(a.find("t.cn/abc")[0].reasons.contains(&"SHORTENER"));
    }

    #[test]
    fn engine_builder_uses_rules_dir_lists() {
        let dir = rules_dir_with(&[("domains/malicious.txt", "our-bad-site.com\n")]);
        let engine = Engine::builder()
            .rules_dir(dir.path())
            .without_model()
            .build()
            .unwrap();
        let v = engine.score(&Message::new("你好 our-bad-site.com"));
        assert_eq!(v.urls.len(), 1);
        assert_eq!(v.urls[0].reputation, Reputation::Malicious);
        assert_eq!(v.verdict, Action::Block);
    }

    #[test]
    fn suffix_list_from_rules_dir() {
        // A tiny list where `example` is a suffix and `com` is not.
        let psl = "// ===BEGIN ICANN DOMAINS===\nexample\n// ===END ICANN DOMAINS===\n";
        let dir = rules_dir_with(&[("public_suffix_list.dat", psl)]);
        let a = LinkAnalyzer::from_dir(dir.path()).unwrap();
        let f = a.find("foo.example abc.com");
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].registrable_domain, "foo.example");
    }

    #[test]
    fn unknown_list_file_is_an_error() {
        let dir = rules_dir_with(&[("domains/malicous.txt", "x.com\n")]);
        let e = LinkAnalyzer::from_dir(dir.path()).unwrap_err();
        assert!(
            e.message().contains("malicous.txt: unknown domain list"),
            "{}",
            e.message()
        );
    }

    #[test]
    fn bad_entry_names_file_and_line() {
        let dir = rules_dir_with(&[("domains/malicious.txt", "ok.com\n#c\n...\n")]);
        let e = LinkAnalyzer::from_dir(dir.path()).unwrap_err();
        assert!(
            e.message()
                .ends_with("malicious.txt:3: not a domain name: \"...\""),
            "{}",
            e.message()
        );
    }

    #[test]
    fn a_large_list_loads_compact() {
        let mut text = String::new();
        for i in 0..200_000 {
            text.push_str(&format!("host-{i}.example{}.com\n", i % 97));
        }
        let set = smishd::links::DomainSet::parse(&text, "generated").unwrap();
        assert_eq!(set.len(), 200_000);
        assert!(set.contains("host-123.example26.com"));
        assert!(!set.contains("host-123.example27.com"));
        // 8 bytes a name plus the bucket index (at most 4 bytes for every 4 names).
        assert!(
            set.heap_bytes() <= 200_000 * 8 + 200_000 + 16,
            "{}",
            set.heap_bytes()
        );
    }
}

mod spans {
    use super::*;
    use proptest::prelude::*;

    const PIECES: &[&str] = &[
        "请点击",
        "abc",
        "-",
        ".",
        "。",
        "．",
        "ｃｎ",
        "cn",
        "top",
        "com",
        " ",
        "t.cn/Ab",
        "[.]",
        "点",
        "http://",
        "hxxp://",
        "例子",
        "中国",
        "@",
        ":",
        "8080",
        "/",
        "198.00元",
        "\u{200B}",
        "(",
        ")",
        " dot ",
        "xn--",
        "ａ",
        "，",
        "www.",
    ];

    proptest! {
        #[test]
        fn spans_fall_on_char_boundaries(parts in proptest::collection::vec(0..PIECES.len(), 0..24)) {
            let text: String = parts.iter().map(|&i| PIECES[i]).collect();
            // `find` asserts the boundaries and that raw is the span.
            let found = find(&text);
            let mut last_end = 0;
            for u in &found {
                prop_assert!(u.span.start >= last_end, "links overlap in {text:?}");
                last_end = u.span.end;
            }
        }
    }

    #[test]
    fn verdict_json_carries_links() {
        let engine = Engine::new().unwrap();
        let v = engine.score(&Message::new("请登录jkm-help。top申诉"));
        let json = serde_json::to_value(&v).unwrap();
        let u = &json["urls"][0];
        assert_eq!(u["raw"], "jkm-help。top");
        assert_eq!(u["url"], "http://jkm-help.top/");
        assert_eq!(u["host"], "jkm-help.top");
        assert_eq!(u["registrable_domain"], "jkm-help.top");
        assert_eq!(u["reputation"], "malicious");
        let (s, e) = (
            u["start"].as_u64().unwrap() as usize,
            u["end"].as_u64().unwrap() as usize,
        );
        assert_eq!(&"请登录jkm-help。top申诉"[s..e], "jkm-help。top");
    }
}

mod cli {
    use crate::common::{run, stdout};

    #[test]
    fn score_shows_links_with_reputation_and_reasons() {
        let o = run(&[
            "score",
            "--model",
            "none",
            "请登录jkm-help。top申诉 或 www.sf-express.com",
        ]);
        assert!(o.status.success(), "{o:?}");
        let out = stdout(&o);
        assert!(out.contains("links:"), "{out}");
        assert!(
            out.contains(
                "\"jkm-help。top\" 9..23 -> http://jkm-help.top/  domain jkm-help.top  malicious"
            ),
            "{out}"
        );
        assert!(out.contains("IDEOGRAPHIC_DOT"), "{out}");
        assert!(out.contains("domain sf-express.com  trusted"), "{out}");
    }

    #[test]
    fn score_without_links_says_none() {
        let out = stdout(&run(&["score", "--model", "none", "您好。今天天气不错。"]));
        assert!(out.contains("links: none"), "{out}");
    }
}

/// An invisible character inside a link used to cut the host short (`请登录jkm-he\u{200E}lp.top申诉`
/// found `lp.top` and was only flagged): every bidi mark or isolate, like a zero-width space,
/// must leave the listed host `jkm-help.top` whole and the message blocked.
#[test]
fn bidi_marks_inside_a_listed_link_still_block() {
    let engine = Engine::new().unwrap();
    for mark in [
        '\u{200B}', '\u{200E}', '\u{200F}', '\u{202E}', '\u{2066}', '\u{2069}',
    ] {
        let text = format!("请登录jkm-he{mark}lp.top申诉");
        let v = engine.score(&Message::new(&text));
        let hosts: Vec<(&str, &str, Reputation)> = v
            .urls
            .iter()
            .map(|u| (u.host.as_str(), u.registrable_domain.as_str(), u.reputation))
            .collect();
        assert_eq!(
            hosts,
            [("jkm-help.top", "jkm-help.top", Reputation::Malicious)],
            "U+{:04X}",
            mark as u32
        );
        assert_eq!(v.verdict, Action::Block, "U+{:04X}", mark as u32);
    }
}
