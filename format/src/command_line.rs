//! Parsing both programs' command lines the same way. Kept here, in the crate both programs
//! share, as [`crate::progress`] is.

/// The command line parsed as `C`, taking a negative number as a flag's value in the command
/// and every subcommand, so that `--epochs -1` is refused as a bad value of `--epochs` (clap
/// names the flag and its range) rather than as an unknown argument `-1`. Exits with clap's
/// message on a bad command line, as `Parser::parse` does.
pub fn parse<C: clap::Parser>() -> C {
    parse_from(std::env::args_os())
}

/// [`parse`] of the arguments `args` (the program's name first).
pub fn parse_from<C: clap::Parser, T: Into<std::ffi::OsString> + Clone>(
    args: impl IntoIterator<Item = T>,
) -> C {
    try_parse_from(args).unwrap_or_else(|e| e.exit())
}

/// [`parse_from`], returning clap's error instead of exiting.
pub fn try_parse_from<C: clap::Parser, T: Into<std::ffi::OsString> + Clone>(
    args: impl IntoIterator<Item = T>,
) -> Result<C, clap::Error> {
    let command = C::command()
        .allow_negative_numbers(true)
        .mut_subcommands(|s| s.allow_negative_numbers(true));
    let matches = command.try_get_matches_from(args)?;
    C::from_arg_matches(&matches)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(clap::Parser, Debug)]
    struct Cli {
        #[command(subcommand)]
        command: Command,
    }

    #[derive(clap::Subcommand, Debug)]
    enum Command {
        Run {
            #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
            epochs: u32,
            #[arg(long)]
            shift: Option<f64>,
        },
    }

    /// A negative number is a flag's value: out of its range it is refused naming the flag;
    /// where a flag takes it, it is taken.
    #[test]
    fn negative_numbers_are_values_named_by_their_flag() {
        let e = try_parse_from::<Cli, _>(["t", "run", "--epochs", "-1"]).unwrap_err();
        let text = e.to_string();
        assert!(text.contains("--epochs") && text.contains("-1"), "{text}");
        assert!(!text.contains("unexpected argument"), "{text}");
        let cli: Cli = try_parse_from(["t", "run", "--epochs", "2", "--shift", "-0.5"]).unwrap();
        let Command::Run { epochs, shift } = cli.command;
        assert_eq!((epochs, shift), (2, Some(-0.5)));
    }
}
