//! Inference time of the linear model per message, analysis excluded: `cargo bench --bench
//! model`. Messages are analysed once up front; the timed loop is only the sparse dot product
//! and softmax (`Engine::probabilities` with the compiled-in model).
//!
//! The messages are written by the project. To time on a corpus instead, set
//! `SMISHD_BENCH_DATA=FILE.tsv` (label<TAB>text; up to 20,000 rows are used).

use std::hint::black_box;
use std::time::Instant;

use smishd::{Engine, Message};

const RUNS: usize = 9;

fn main() {
    let engine = Engine::new().expect("default engine");
    assert_ne!(
        engine.model_version(),
        "rules-only",
        "this build has no compiled-in model (models/smishd.model)"
    );
    let texts: Vec<String> = match std::env::var("SMISHD_BENCH_DATA") {
        Ok(path) => std::fs::read_to_string(&path)
            .expect("SMISHD_BENCH_DATA readable")
            .lines()
            .filter_map(|l| l.split_once('\t').map(|(_, t)| t.to_string()))
            .take(20_000)
            .collect(),
        Err(_) => own_messages(),
    };
    let analyses: Vec<_> = texts
        .iter()
        .map(|t| engine.analyze(&Message::new(t)))
        .collect();
    let n = analyses.len();
    // Enough passes that one run takes tens of milliseconds.
    let passes = (200_000 / n).max(1);

    let mut per_message = Vec::with_capacity(RUNS);
    let mut checksum = 0.0f64;
    let mut count = 0usize;
    for _ in 0..RUNS {
        let start = Instant::now();
        for _ in 0..passes {
            for a in &analyses {
                let p = engine.probabilities(black_box(a));
                checksum += p[6];
                count += 1;
            }
        }
        per_message.push(start.elapsed().as_nanos() as f64 / (passes * n) as f64);
    }
    assert_eq!(count, RUNS * passes * n, "every prediction was made");
    assert!(checksum.is_finite());
    per_message.sort_by(f64::total_cmp);

    // Analysis + prediction for comparison (the whole `score` path minus building hits).
    let start = Instant::now();
    for t in &texts {
        black_box(engine.probabilities(&engine.analyze(&Message::new(black_box(t)))));
    }
    let full = start.elapsed().as_nanos() as f64 / n as f64;

    println!(
        "model {}: {} messages x {} passes x {RUNS} runs = {count} predictions",
        engine.model_version(),
        n,
        passes
    );
    println!(
        "inference per message (sparse dot + softmax): median {:.0} ns, min {:.0} ns, max {:.0} ns",
        per_message[RUNS / 2],
        per_message[0],
        per_message[RUNS - 1]
    );
    println!("analysis + inference per message: {full:.0} ns (one pass)");
}

fn own_messages() -> Vec<String> {
    [
        "【疾控中心】您已被判定为密接人员，健康码将转为红码，请立即点击 jkm-help.top 核实",
        "您好，您的快递在运输中检测出新冠阳性已被销毁，请添加客服微信办理理赔",
        "核酸检测加急出结果，24小时内出阴性报告，不用排队，需要的加V",
        "特效药到货，无需处方，治疗新冠三天痊愈，量少先到先得",
        "【工商银行】您的账户积分即将过期，请登录 icbc-jf.cn 兑换现金礼品",
        "妈妈我今天晚点下班，晚饭不用等我",
        "【顺丰速运】您的快递已到小区驿站，取件码 3-2-1045，请及时领取",
        "【招商银行】您尾号1234的信用卡本期账单已出，应还金额2,345.67元",
        "您的验证码是 482913，5分钟内有效，请勿泄露给他人",
        "本店新品上市，全场八折优惠，欢迎光临，退订回T",
        "明天下午三点开会，记得带上项目资料",
        "Your parcel could not be delivered, pay the customs fee at dhl-redeliver.top",
        "Are we still meeting for lunch tomorrow?",
        "WINNER!! You have been selected to receive a £900 prize reward, call 09061701461",
        "尊敬的用户，您的医保卡已被冻结，请拨打 400-123-4567 解冻",
        "老同学，我换号了，这是我新号码，明天找你借点钱周转一下",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}
