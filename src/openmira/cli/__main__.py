from openmira.cli import main

main()
