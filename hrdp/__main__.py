from hrdp.cli import main

main()
