module capgate.dev/e2e/gofetch

go 1.24
