//! Training-curve PNGs: decoded back and checked where the series are.

use exahealth_nn::metrics::MetricSet;
use exahealth_nn::plot::{
    render, write_png, Curves, EpochMetrics, Panel, PlotError, PlotOptions, TRAIN_COLOUR,
    VALIDATION_COLOUR,
};
use exahealth_nn::train::{EpochRecord, History};

fn epochs(n: usize) -> Vec<EpochMetrics> {
    (1..=n)
        .map(|e| {
            let x = e as f64;
            let mut train = MetricSet::new();
            train.insert("loss", 2.0 / x);
            train.insert("accuracy", 1.0 - 0.5 / x);
            let mut validation = MetricSet::new();
            validation.insert("loss", 2.2 / x + 0.1);
            validation.insert("accuracy", 1.0 - 0.6 / x);
            validation.insert("auc", 0.5 + 0.05 * x);
            EpochMetrics {
                epoch: e,
                train,
                validation,
            }
        })
        .collect()
}

/// Rows (y) of pixels of `colour` in columns `x0..x1` of an RGB8 image.
fn rows_of(
    px: &[u8],
    width: usize,
    x0: usize,
    x1: usize,
    y0: usize,
    y1: usize,
    colour: [u8; 3],
) -> Vec<usize> {
    let mut out = vec![];
    for y in y0..y1 {
        for x in x0..x1 {
            let i = (y * width + x) * 3;
            if px[i..i + 3] == colour {
                out.push(y);
            }
        }
    }
    out
}

fn mean(v: &[usize]) -> f64 {
    assert!(!v.is_empty(), "no pixels of the series colour found");
    v.iter().sum::<usize>() as f64 / v.len() as f64
}

#[test]
fn png_decodes_and_series_sit_where_their_values_say() {
    let curves = Curves::from_epochs(&epochs(10));
    let titles: Vec<&str> = curves.panels.iter().map(|p| p.title.as_str()).collect();
    assert_eq!(titles, ["loss", "accuracy", "auc"]);

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("curves.png");
    write_png(&path, &curves, PlotOptions::default()).unwrap();
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "temp file left"
    );

    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    // Three panels in two columns: 2 x 2 cells of 480 x 300.
    assert_eq!((info.width, info.height), (960, 600));
    assert_eq!(info.color_type, png::ColorType::Rgb);
    let w = info.width as usize;

    let rendered = render(&curves, PlotOptions::default()).unwrap();
    assert_eq!(rendered.pixels, buf[..w * 600 * 3].to_vec());
    let loss = &rendered.panels[0];
    assert_eq!(loss.title, "loss");
    // The y axis spans both series: train 0.2..2, validation 0.32..2.3.
    assert!(
        loss.y_range.0 < 0.2 && loss.y_range.1 > 2.3,
        "{:?}",
        loss.y_range
    );
    assert!(loss.x_range == (1.0, 10.0));

    let (x, y, aw, ah) = (loss.x, loss.y, loss.width, loss.height);
    let fifth = aw / 5;
    // Loss falls: the training curve is high (small y) on the left and low
    // on the right.
    let left = mean(&rows_of(&buf, w, x, x + fifth, y, y + ah, TRAIN_COLOUR));
    let right = mean(&rows_of(
        &buf,
        w,
        x + aw - fifth,
        x + aw,
        y,
        y + ah,
        TRAIN_COLOUR,
    ));
    assert!(
        left + 50.0 < right,
        "train loss not falling: {left} vs {right}"
    );
    // The first point (epoch 1, loss 2.0) is drawn at its exact pixel.
    let py = y + ah
        - 1
        - ((2.0 - loss.y_range.0) / (loss.y_range.1 - loss.y_range.0) * (ah - 1) as f64).round()
            as usize;
    let i = (py * w + x) * 3;
    assert_eq!(buf[i..i + 3], TRAIN_COLOUR);
    // Validation loss is above the training loss at the last epoch.
    let v_right = mean(&rows_of(
        &buf,
        w,
        x + aw - 3,
        x + aw,
        y,
        y + ah,
        VALIDATION_COLOUR,
    ));
    let t_right = mean(&rows_of(
        &buf,
        w,
        x + aw - 3,
        x + aw,
        y,
        y + ah,
        TRAIN_COLOUR,
    ));
    assert!(
        v_right < t_right,
        "validation {v_right} should be above train {t_right}"
    );

    // The AUC panel (bottom left) rises and has validation only.
    let auc = &rendered.panels[2];
    assert_eq!((auc.x < 480, auc.y > 300), (true, true));
    let (x, y, aw, ah) = (auc.x, auc.y, auc.width, auc.height);
    assert!(rows_of(&buf, w, x, x + aw, y, y + ah, TRAIN_COLOUR).is_empty());
    let l = mean(&rows_of(
        &buf,
        w,
        x,
        x + aw / 5,
        y,
        y + ah,
        VALIDATION_COLOUR,
    ));
    let r = mean(&rows_of(
        &buf,
        w,
        x + aw - aw / 5,
        x + aw,
        y,
        y + ah,
        VALIDATION_COLOUR,
    ));
    assert!(l > r + 50.0, "auc not rising: {l} vs {r}");
    // The empty fourth cell stays white.
    let cell = &buf[(450 * w + 700) * 3..(450 * w + 700) * 3 + 3];
    assert_eq!(cell, [255, 255, 255]);
}

#[test]
fn text_is_drawn_in_titles_and_ticks() {
    let curves = Curves::from_epochs(&epochs(3));
    let r = render(&curves, PlotOptions::default()).unwrap();
    let w = r.width;
    let dark = |x0: usize, x1: usize, y0: usize, y1: usize| {
        (y0..y1)
            .flat_map(|y| (x0..x1).map(move |x| (y * w + x) * 3))
            .filter(|&i| r.pixels[i] < 40 && r.pixels[i + 1] < 40 && r.pixels[i + 2] < 40)
            .count()
    };
    let a = &r.panels[0];
    // Title band above the data area, tick labels left of it, epoch
    // labels below it: each holds dark text pixels.
    assert!(dark(a.x, a.x + 60, a.y - 28, a.y - 6) > 30, "no title");
    assert!(
        dark(a.x - 60, a.x - 4, a.y, a.y + a.height) > 30,
        "no y tick labels"
    );
    assert!(
        dark(a.x, a.x + a.width, a.y + a.height + 3, a.y + a.height + 26) > 30,
        "no x labels"
    );
}

#[test]
fn gaps_constants_and_bad_input() {
    // A NaN breaks the line, a constant series gets a non-empty range, a
    // single epoch is drawn.
    let curves = Curves {
        panels: vec![
            Panel {
                title: "loss".into(),
                train: vec![(1.0, 0.5), (2.0, f64::NAN), (3.0, 0.5)],
                validation: vec![(1.0, 0.5)],
            },
            Panel {
                title: "empty".into(),
                train: vec![(1.0, f64::INFINITY)],
                validation: vec![],
            },
        ],
    };
    let r = render(&curves, PlotOptions::default()).unwrap();
    assert_eq!(
        r.panels.len(),
        1,
        "a panel without finite values is dropped"
    );
    let p = &r.panels[0];
    assert!(p.y_range.0 < 0.5 && p.y_range.1 > 0.5);
    // The NaN gap: no train pixels halfway between epochs 1 and 2... except
    // that the constant series lies on one row; check the middle of 1..2.
    let w = r.width;
    let mid_x = p.x + p.width / 4;
    let col: Vec<[u8; 3]> = (p.y..p.y + p.height)
        .map(|y| {
            let i = (y * w + mid_x) * 3;
            [r.pixels[i], r.pixels[i + 1], r.pixels[i + 2]]
        })
        .collect();
    assert!(!col.contains(&TRAIN_COLOUR), "line drawn across a NaN");

    assert!(matches!(
        render(&Curves::default(), PlotOptions::default()),
        Err(PlotError::Empty)
    ));
    let tiny = PlotOptions {
        panel_width: 10,
        ..PlotOptions::default()
    };
    assert!(matches!(
        render(&Curves::from_epochs(&epochs(2)), tiny),
        Err(PlotError::Size(_))
    ));
}

#[test]
fn trainer_history_becomes_panels() {
    let h = History {
        epochs: (1..=4)
            .map(|e| EpochRecord {
                epoch: e,
                train_loss: 1.0 / e as f64,
                lr: 0.01,
                val_loss: Some(1.2 / e as f64),
                val_accuracy: Some(0.5 + 0.1 * e as f64),
                val_dice: None,
                seconds: 1.0,
            })
            .collect(),
    };
    let c = Curves::from_history(&h);
    let titles: Vec<&str> = c.panels.iter().map(|p| p.title.as_str()).collect();
    assert_eq!(titles, ["loss", "accuracy", "learning rate"]);
    assert_eq!(c.panels[0].validation[3], (4.0, 0.3));
    assert!(render(&c, PlotOptions::default()).is_ok());
}
