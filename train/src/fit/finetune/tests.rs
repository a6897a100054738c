//! Tests of [`super`].

use super::*;

#[test]
fn lens_counts_round_and_keep_both_classes() {
    assert_eq!(lenses_in(20, 0.17), 3);
    assert_eq!(lenses_in(40, 0.17), 7);
    assert_eq!(lenses_in(10, 0.01), 1);
    assert_eq!(lenses_in(10, 0.99), 9);
    assert_eq!(lenses_in(200, 0.5), 100);
}

#[test]
fn draws_are_nested_disjoint_stratified_and_outside_the_group() {
    let labels: Vec<bool> = (0..300).map(|i| i % 5 == 0).collect();
    let pool: Vec<usize> = (0..300).filter(|i| i % 3 != 0).collect();
    let d = draw(&labels, &pool, &[10, 40, 80], 0.2, 4, 1).unwrap();
    for (k, x) in d.iter().enumerate() {
        let n = [10, 40, 80][k];
        for set in [&x.training, &x.validation] {
            assert_eq!(set.len(), n);
            assert!(set.iter().all(|i| pool.contains(i)));
            let l = set.iter().filter(|&&i| labels[i]).count();
            assert_eq!(l, lenses_in(n, 0.2));
        }
        assert!(x.training.iter().all(|i| !x.validation.contains(i)));
        if k > 0 {
            assert!(d[k - 1].training.iter().all(|i| x.training.contains(i)));
            assert!(d[k - 1].validation.iter().all(|i| x.validation.contains(i)));
        }
    }
    // The pool holds 40 lenses: 20 per list, so 120 systems (24 lenses each) cannot be drawn.
    let e = draw(&labels, &pool, &[10, 120], 0.2, 4, 1).unwrap_err();
    assert!(e.contains("N_img = 120") && e.contains("40 lenses"), "{e}");
    // The same seed and group give the same draw; another group another.
    assert_eq!(d, draw(&labels, &pool, &[10, 40, 80], 0.2, 4, 1).unwrap());
    assert_ne!(d, draw(&labels, &pool, &[10, 40, 80], 0.2, 4, 2).unwrap());
}
